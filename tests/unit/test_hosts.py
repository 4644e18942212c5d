import pytest

from core.domain.errors import InvalidInput
from core.domain.models import Host
from core.domain.validate import parse_port, validate_host


@pytest.mark.parametrize("name,address", [
    ("web1", "10.0.0.1"), ("db-2.prod", "db2.example.com"), ("v6", "::1"), ("x", "host_1.local"),
])
def test_valid_hosts(name, address):
    assert validate_host(Host(name=name, address=address)).name == name


@pytest.mark.parametrize("host,message", [
    (Host(name="", address="1.2.3.4"), "invalid host name"),
    (Host(name="-x", address="1.2.3.4"), "invalid host name"),
    (Host(name="a b", address="1.2.3.4"), "invalid host name"),
    (Host(name="web", address="-oProxyCommand=x"), "invalid address"),
    (Host(name="web", address="a b"), "invalid address"),
    (Host(name="web", address="1.2.3.4", port=0), "invalid port"),
    (Host(name="web", address="1.2.3.4", username="root;id"), "invalid user"),
    (Host(name="web", address="1.2.3.4", identity_file="/nonexistent/key"), "does not exist"),
    (Host(name="web", address="1.2.3.4", sudo_password_env="pass word"), "invalid variable"),
])
def test_invalid_hosts(host, message):
    with pytest.raises(InvalidInput, match=message):
        validate_host(host)


def test_ports():
    assert parse_port("2222") == 2222
    for bad in ("0", "65536", "ssh", ""):
        with pytest.raises(InvalidInput, match="invalid port"):
            parse_port(bad)
