"""What every screen and modal builds on: BaseScreen, BaseModal, FormModal and the app's state,
typed (AppView). Imports widgets, services and common, never a screen or a modal."""
