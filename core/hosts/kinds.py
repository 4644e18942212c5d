"""The kinds of file `hosts import` reads, by name alone: the CLI's parser offers them without
loading the parsers (core/hosts/inventory.py) and PyYAML behind them."""

SSH_CONFIG, ANSIBLE_INI, ANSIBLE_YAML = "ssh-config", "ansible-ini", "ansible-yaml"
KINDS = (SSH_CONFIG, ANSIBLE_INI, ANSIBLE_YAML)
