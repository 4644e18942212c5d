"""core.osinfo: /etc/os-release as the supported distributions really write it."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.content.catalog import catalog_entry
from core.domain.models import OsInfo
from core.targets.osinfo import install_hint, oscap_package, parse_os_release

OS_RELEASE = {
    "ubuntu2004": """\
NAME="Ubuntu"
VERSION="20.04.6 LTS (Focal Fossa)"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME="Ubuntu 20.04.6 LTS"
VERSION_ID="20.04"
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
VERSION_CODENAME=focal
UBUNTU_CODENAME=focal
""",
    "ubuntu2204": """\
PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME=jammy
""",
    "ubuntu2404": """\
PRETTY_NAME="Ubuntu 24.04.1 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.1 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME=noble
LOGO=ubuntu-logo
""",
    "debian11": """\
PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"
NAME="Debian GNU/Linux"
VERSION_ID="11"
VERSION="11 (bullseye)"
VERSION_CODENAME=bullseye
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
""",
    "debian12": """\
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
""",
    "rhel8": """\
NAME="Red Hat Enterprise Linux"
VERSION="8.9 (Ootpa)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="8.9"
PLATFORM_ID="platform:el8"
PRETTY_NAME="Red Hat Enterprise Linux 8.9 (Ootpa)"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:redhat:enterprise_linux:8::baseos"
HOME_URL="https://www.redhat.com/"
DOCUMENTATION_URL="https://access.redhat.com/documentation/en-us/red_hat_enterprise_linux/8"
BUG_REPORT_URL="https://bugzilla.redhat.com/"

REDHAT_BUGZILLA_PRODUCT="Red Hat Enterprise Linux 8"
REDHAT_BUGZILLA_PRODUCT_VERSION=8.9
REDHAT_SUPPORT_PRODUCT="Red Hat Enterprise Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="8.9"
""",
    "rhel9": """\
NAME="Red Hat Enterprise Linux"
VERSION="9.3 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Red Hat Enterprise Linux 9.3 (Plow)"
ANSI_COLOR="0;31"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"
HOME_URL="https://www.redhat.com/"
DOCUMENTATION_URL="https://access.redhat.com/documentation/en-us/red_hat_enterprise_linux/9"
BUG_REPORT_URL="https://bugzilla.redhat.com/"

REDHAT_BUGZILLA_PRODUCT="Red Hat Enterprise Linux 9"
REDHAT_BUGZILLA_PRODUCT_VERSION=9.3
REDHAT_SUPPORT_PRODUCT="Red Hat Enterprise Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="9.3"
""",
    "almalinux8": """\
NAME="AlmaLinux"
VERSION="8.9 (Midnight Oncilla)"
ID="almalinux"
ID_LIKE="rhel centos fedora"
VERSION_ID="8.9"
PLATFORM_ID="platform:el8"
PRETTY_NAME="AlmaLinux 8.9 (Midnight Oncilla)"
ANSI_COLOR="0;34"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:almalinux:almalinux:8::baseos"
HOME_URL="https://almalinux.org/"
DOCUMENTATION_URL="https://wiki.almalinux.org/"
BUG_REPORT_URL="https://bugs.almalinux.org/"

ALMALINUX_MANTISBT_PROJECT="AlmaLinux-8"
ALMALINUX_MANTISBT_PROJECT_VERSION="8.9"
REDHAT_SUPPORT_PRODUCT="AlmaLinux"
REDHAT_SUPPORT_PRODUCT_VERSION="8.9"
""",
    "almalinux9": """\
NAME="AlmaLinux"
VERSION="9.3 (Shamrock Pampas Cat)"
ID="almalinux"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="AlmaLinux 9.3 (Shamrock Pampas Cat)"
ANSI_COLOR="0;34"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:almalinux:almalinux:9::baseos"
HOME_URL="https://almalinux.org/"
DOCUMENTATION_URL="https://wiki.almalinux.org/"
BUG_REPORT_URL="https://bugs.almalinux.org/"

ALMALINUX_MANTISBT_PROJECT="AlmaLinux-9"
ALMALINUX_MANTISBT_PROJECT_VERSION="9.3"
REDHAT_SUPPORT_PRODUCT="AlmaLinux"
REDHAT_SUPPORT_PRODUCT_VERSION="9.3"
""",
    "rocky8": """\
NAME="Rocky Linux"
VERSION="8.9 (Green Obsidian)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="8.9"
PLATFORM_ID="platform:el8"
PRETTY_NAME="Rocky Linux 8.9 (Green Obsidian)"
ANSI_COLOR="0;32"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:rocky:rocky:8:GA"
HOME_URL="https://rockylinux.org/"
BUG_REPORT_URL="https://bugs.rockylinux.org/"
SUPPORT_END="2029-05-31"
ROCKY_SUPPORT_PRODUCT="Rocky-Linux-8"
ROCKY_SUPPORT_PRODUCT_VERSION="8.9"
REDHAT_SUPPORT_PRODUCT="Rocky Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="8.9"
""",
    "rocky9": """\
NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
ANSI_COLOR="0;32"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:rocky:rocky:9::baseos"
HOME_URL="https://rockylinux.org/"
BUG_REPORT_URL="https://bugs.rockylinux.org/"
SUPPORT_END="2032-05-31"
ROCKY_SUPPORT_PRODUCT="Rocky-Linux-9"
ROCKY_SUPPORT_PRODUCT_VERSION="9.3"
REDHAT_SUPPORT_PRODUCT="Rocky Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="9.3"
""",
    "ol8": """\
NAME="Oracle Linux Server"
VERSION="8.9"
ID="ol"
ID_LIKE="fedora"
VARIANT="Server"
VARIANT_ID="server"
VERSION_ID="8.9"
PLATFORM_ID="platform:el8"
PRETTY_NAME="Oracle Linux Server 8.9"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:oracle:linux:8:9:server"
HOME_URL="https://linux.oracle.com/"
BUG_REPORT_URL="https://github.com/oracle/oracle-linux"

ORACLE_BUGZILLA_PRODUCT="Oracle Linux 8"
ORACLE_BUGZILLA_PRODUCT_VERSION=8.9
ORACLE_SUPPORT_PRODUCT="Oracle Linux"
ORACLE_SUPPORT_PRODUCT_VERSION=8.9
""",
    "ol9": """\
NAME="Oracle Linux Server"
VERSION="9.3"
ID="ol"
ID_LIKE="fedora"
VARIANT="Server"
VARIANT_ID="server"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Oracle Linux Server 9.3"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:oracle:linux:9:3:server"
HOME_URL="https://linux.oracle.com/"
BUG_REPORT_URL="https://github.com/oracle/oracle-linux"

ORACLE_BUGZILLA_PRODUCT="Oracle Linux 9"
ORACLE_BUGZILLA_PRODUCT_VERSION=9.3
ORACLE_SUPPORT_PRODUCT="Oracle Linux"
ORACLE_SUPPORT_PRODUCT_VERSION=9.3
""",
    "amzn2": """\
NAME="Amazon Linux"
VERSION="2"
ID="amzn"
ID_LIKE="centos rhel fedora"
VERSION_ID="2"
PRETTY_NAME="Amazon Linux 2"
ANSI_COLOR="0;33"
CPE_NAME="cpe:2.3:o:amazon:amazon_linux:2"
HOME_URL="https://amazonlinux.com/"
SUPPORT_END="2025-06-30"
""",
    # The releases beyond the spec's table, as they ship: Debian 13 from trixie's base-files package
    # (usr/lib/os-release), the others as printed by `cat /etc/os-release` on those systems.
    "debian13": """\
PRETTY_NAME="Debian GNU/Linux 13 (trixie)"
NAME="Debian GNU/Linux"
VERSION_ID="13"
VERSION="13 (trixie)"
VERSION_CODENAME=trixie
DEBIAN_VERSION_FULL=13.8
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
""",
    "rhel10": """\
NAME="Red Hat Enterprise Linux"
VERSION="10.0 (Coughlan)"
ID="rhel"
ID_LIKE="centos fedora"
VERSION_ID="10.0"
PLATFORM_ID="platform:el10"
PRETTY_NAME="Red Hat Enterprise Linux 10.0 (Coughlan)"
ANSI_COLOR="0;31"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:redhat:enterprise_linux:10::baseos"
HOME_URL="https://www.redhat.com/"
VENDOR_NAME="Red Hat"
VENDOR_URL="https://www.redhat.com/"
DOCUMENTATION_URL="https://access.redhat.com/documentation/en-us/red_hat_enterprise_linux/10"
BUG_REPORT_URL="https://issues.redhat.com/"

REDHAT_BUGZILLA_PRODUCT="Red Hat Enterprise Linux 10"
REDHAT_BUGZILLA_PRODUCT_VERSION=10.0
REDHAT_SUPPORT_PRODUCT="Red Hat Enterprise Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="10.0"
""",
    "almalinux10": """\
NAME="AlmaLinux"
VERSION="10.0 (Purple Lion)"
ID="almalinux"
ID_LIKE="rhel centos fedora"
VERSION_ID="10.0"
PLATFORM_ID="platform:el10"
PRETTY_NAME="AlmaLinux 10.0 (Purple Lion)"
ANSI_COLOR="0;34"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:almalinux:almalinux:10::baseos"
HOME_URL="https://almalinux.org/"
DOCUMENTATION_URL="https://wiki.almalinux.org/"
VENDOR_NAME="AlmaLinux"
VENDOR_URL="https://almalinux.org/"
BUG_REPORT_URL="https://bugs.almalinux.org/"

ALMALINUX_MANTISBT_PROJECT="AlmaLinux-10"
ALMALINUX_MANTISBT_PROJECT_VERSION="10.0"
REDHAT_SUPPORT_PRODUCT="AlmaLinux"
REDHAT_SUPPORT_PRODUCT_VERSION="10.0"
SUPPORT_END=2035-06-01
""",
    "rocky10": """\
NAME="Rocky Linux"
VERSION="10.0 (Red Quartz)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="10.0"
PLATFORM_ID="platform:el10"
PRETTY_NAME="Rocky Linux 10.0 (Red Quartz)"
ANSI_COLOR="0;32"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:rocky:rocky:10::baseos"
HOME_URL="https://rockylinux.org/"
VENDOR_NAME="RESF"
VENDOR_URL="https://resf.org/"
BUG_REPORT_URL="https://bugs.rockylinux.org/"
SUPPORT_END="2035-05-31"
ROCKY_SUPPORT_PRODUCT="Rocky-Linux-10"
ROCKY_SUPPORT_PRODUCT_VERSION="10.0"
REDHAT_SUPPORT_PRODUCT="Rocky Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="10.0"
""",
    "ol10": """\
NAME="Oracle Linux Server"
VERSION="10.0"
ID="ol"
ID_LIKE="fedora"
VARIANT="Server"
VARIANT_ID="server"
VERSION_ID="10.0"
PLATFORM_ID="platform:el10"
PRETTY_NAME="Oracle Linux Server 10.0"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:oracle:linux:10:0:server"
HOME_URL="https://linux.oracle.com/"
BUG_REPORT_URL="https://github.com/oracle/oracle-linux"

ORACLE_BUGZILLA_PRODUCT="Oracle Linux 10"
ORACLE_BUGZILLA_PRODUCT_VERSION=10.0
ORACLE_SUPPORT_PRODUCT="Oracle Linux"
ORACLE_SUPPORT_PRODUCT_VERSION=10.0
""",
    "al2023": """\
NAME="Amazon Linux"
VERSION="2023"
ID="amzn"
ID_LIKE="fedora"
VERSION_ID="2023"
PLATFORM_ID="platform:al2023"
PRETTY_NAME="Amazon Linux 2023.6.20250218"
ANSI_COLOR="0;33"
CPE_NAME="cpe:2.3:o:amazon:amazon_linux:2023"
HOME_URL="https://aws.amazon.com/linux/amazon-linux-2023/"
DOCUMENTATION_URL="https://docs.aws.amazon.com/linux/"
SUPPORT_URL="https://aws.amazon.com/premiumsupport/"
BUG_REPORT_URL="https://github.com/amazonlinux/amazon-linux-2023"
VENDOR_NAME="AWS"
VENDOR_URL="https://aws.amazon.com/"
SUPPORT_END="2029-06-30"
""",
}

# key: (ID, VERSION_ID, PRETTY_NAME, family, major, oscap package, install hint)
EXPECTED = {
    "ubuntu2004": ("ubuntu", "20.04", "Ubuntu 20.04.6 LTS", "debian", "20", "libopenscap8",
                   "sudo apt-get install libopenscap8"),
    "ubuntu2204": ("ubuntu", "22.04", "Ubuntu 22.04.4 LTS", "debian", "22", "libopenscap8",
                   "sudo apt-get install libopenscap8"),
    "ubuntu2404": ("ubuntu", "24.04", "Ubuntu 24.04.1 LTS", "debian", "24", "openscap-scanner",
                   "sudo apt-get install openscap-scanner"),
    "debian11": ("debian", "11", "Debian GNU/Linux 11 (bullseye)", "debian", "11", "openscap-scanner", None),
    "debian12": ("debian", "12", "Debian GNU/Linux 12 (bookworm)", "debian", "12", "openscap-scanner",
                 "sudo apt-get install openscap-scanner"),
    "rhel8": ("rhel", "8.9", "Red Hat Enterprise Linux 8.9 (Ootpa)", "rhel", "8", "openscap-scanner",
              "sudo dnf install openscap-scanner"),
    "rhel9": ("rhel", "9.3", "Red Hat Enterprise Linux 9.3 (Plow)", "rhel", "9", "openscap-scanner",
              "sudo dnf install openscap-scanner"),
    "almalinux8": ("almalinux", "8.9", "AlmaLinux 8.9 (Midnight Oncilla)", "rhel", "8", "openscap-scanner",
                   "sudo dnf install openscap-scanner"),
    "almalinux9": ("almalinux", "9.3", "AlmaLinux 9.3 (Shamrock Pampas Cat)", "rhel", "9", "openscap-scanner",
                   "sudo dnf install openscap-scanner"),
    "rocky8": ("rocky", "8.9", "Rocky Linux 8.9 (Green Obsidian)", "rhel", "8", "openscap-scanner",
               "sudo dnf install openscap-scanner"),
    "rocky9": ("rocky", "9.3", "Rocky Linux 9.3 (Blue Onyx)", "rhel", "9", "openscap-scanner",
               "sudo dnf install openscap-scanner"),
    "ol8": ("ol", "8.9", "Oracle Linux Server 8.9", "rhel", "8", "openscap-scanner",
            "sudo dnf install openscap-scanner"),
    "ol9": ("ol", "9.3", "Oracle Linux Server 9.3", "rhel", "9", "openscap-scanner",
            "sudo dnf install openscap-scanner"),
    "amzn2": ("amzn", "2", "Amazon Linux 2", "rhel", "2", "openscap-scanner",
              "sudo yum install openscap-scanner"),
    "debian13": ("debian", "13", "Debian GNU/Linux 13 (trixie)", "debian", "13", "openscap-scanner",
                 "sudo apt-get install openscap-scanner"),
    "rhel10": ("rhel", "10.0", "Red Hat Enterprise Linux 10.0 (Coughlan)", "rhel", "10", "openscap-scanner",
               "sudo dnf install openscap-scanner"),
    "almalinux10": ("almalinux", "10.0", "AlmaLinux 10.0 (Purple Lion)", "rhel", "10", "openscap-scanner",
                    "sudo dnf install openscap-scanner"),
    "rocky10": ("rocky", "10.0", "Rocky Linux 10.0 (Red Quartz)", "rhel", "10", "openscap-scanner",
                "sudo dnf install openscap-scanner"),
    "ol10": ("ol", "10.0", "Oracle Linux Server 10.0", "rhel", "10", "openscap-scanner",
             "sudo dnf install openscap-scanner"),
    "al2023": ("amzn", "2023", "Amazon Linux 2023.6.20250218", "rhel", "2023", "openscap-scanner",
               "sudo dnf install openscap-scanner"),
}

# key -> the row of the catalog (scap_content/catalog.toml) the parsed OS lands on
CATALOG_ROW = {
    "ubuntu2004": "Ubuntu 20.04", "ubuntu2204": "Ubuntu 22.04", "ubuntu2404": "Ubuntu 24.04",
    "debian11": "Debian 11", "debian12": "Debian 12", "rhel8": "RHEL 8", "rhel9": "RHEL 9",
    "almalinux8": "AlmaLinux 8", "almalinux9": "AlmaLinux 9", "rocky8": "Rocky Linux 8", "rocky9": "Rocky Linux 9",
    "ol8": "Oracle Linux 8", "ol9": "Oracle Linux 9", "amzn2": "Amazon Linux 2", "debian13": "Debian 13",
    "rhel10": "RHEL 10", "almalinux10": "AlmaLinux 10", "rocky10": "Rocky Linux 10", "ol10": "Oracle Linux 10",
    "al2023": "Amazon Linux 2023",
}


@pytest.mark.parametrize("key", sorted(OS_RELEASE))
def test_real_os_release_files(key):
    os_id, version, pretty, family, major, package, hint = EXPECTED[key]
    info = parse_os_release(OS_RELEASE[key])
    assert info == OsInfo(id=os_id, version=version, pretty_name=pretty, family=family)
    assert info.major == major
    assert oscap_package(info) == package
    if hint is not None:
        assert install_hint(info) == hint


@pytest.mark.parametrize("key", sorted(OS_RELEASE))
def test_each_release_is_detected_as_its_catalog_row(key):
    """Amazon Linux 2 (VERSION_ID="2") and 2023 (VERSION_ID="2023") land on different rows, and so on."""
    entry = catalog_entry(parse_os_release(OS_RELEASE[key]))
    assert entry is not None and entry.label == CATALOG_ROW[key]


def test_debian11_hint_says_openscap_is_not_packaged():
    hint = install_hint(parse_os_release(OS_RELEASE["debian11"]))
    assert "not in Debian 11" in hint and "openscap-scanner" in hint
    assert "\n" not in hint


def test_this_machines_os_release_parses():
    text = Path("/etc/os-release").read_text()
    info = parse_os_release(text)
    assert info.id and info.pretty_name


def test_quotes_escapes_comments_and_blank_lines():
    text = (
        "# written by hand\n"
        "\n"
        "ID='Arch'\n"
        'PRETTY_NAME="The \\"best\\" \\$HOME \\\\ distro"\n'
        "VERSION_ID=rolling\n"
        "  BUILD_ID = not-a-key\n"
        "garbage line without equals\n"
    )
    info = parse_os_release(text)
    assert info.id == "arch"  # lower-cased
    assert info.pretty_name == 'The "best" $HOME \\ distro'
    assert info.version == "rolling"
    assert info.family == "arch"  # not a known family: the ID itself


def test_backslash_rules_inside_and_outside_double_quotes():
    text = 'ID=x\nNAME="a\\nb"\nVERSION=un\\ quoted\\\'s\n'
    assert parse_os_release(text).pretty_name == "a\\nb un quoted's"  # \n is no escape in quotes


def test_unbalanced_quote_keeps_the_value():
    info = parse_os_release('ID=debian\nPRETTY_NAME="Debian broken\n')
    assert info.pretty_name == "Debian broken"


def test_pretty_name_falls_back_to_name_and_version():
    info = parse_os_release('NAME="Foo Linux"\nVERSION="3.1 (Bar)"\nID=foo\nVERSION_ID=3.1\n')
    assert info.pretty_name == "Foo Linux 3.1 (Bar)"
    assert parse_os_release("ID=foo\n").pretty_name == "foo"
    assert parse_os_release("ID=foo\n").version == ""


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ('ID=linuxmint\nID_LIKE="ubuntu debian"\n', "debian"),
        ('ID="opensuse-leap"\nID_LIKE="suse opensuse"\nVERSION_ID="15.5"\n', "suse"),
        ('ID="sles"\nID_LIKE="suse"\nVERSION_ID="15.5"\n', "suse"),
        ('ID=fedora\nVERSION_ID=39\n', "rhel"),
        ('ID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="9"\n', "rhel"),
        ('ID=pop\nID_LIKE="ubuntu debian"\n', "debian"),
        ("ID=alpine\nVERSION_ID=3.19.1\n", "alpine"),
    ],
)
def test_family_from_id_then_id_like(text, family):
    assert parse_os_release(text).family == family


@pytest.mark.parametrize("text", ["", "\n\n# nothing\n", 'NAME="Ubuntu"\nVERSION_ID="22.04"\n', "ID=\n"])
def test_text_without_id_is_rejected(text):
    with pytest.raises(ValueError, match="no ID="):
        parse_os_release(text)


def test_other_families_hints():
    sles = parse_os_release('ID="sles"\nID_LIKE="suse"\nVERSION_ID="15.5"\nPRETTY_NAME="SUSE Linux Enterprise Server 15 SP5"\n')
    assert install_hint(sles) == "sudo zypper install openscap-utils"
    centos7 = parse_os_release('ID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\n')
    assert install_hint(centos7) == "sudo yum install openscap-scanner"
    al2023 = parse_os_release('ID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n')
    assert install_hint(al2023) == "sudo dnf install openscap-scanner"
    alpine = parse_os_release('ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n')
    assert "Alpine Linux v3.19" in install_hint(alpine)
