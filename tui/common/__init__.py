"""What every part of the app speaks: its keys (keymap), its screens' names (nav) and its
words (plural, said). Imports no other tui package: widgets, services, the bases, modals and
screens all build on it."""
