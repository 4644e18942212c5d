"""Helpers of the AI tests: a clean environment, an in-memory keyring, a small seeded scan."""

from __future__ import annotations

from pathlib import Path

from jaraco.classes import properties
from keyring.backend import KeyringBackend

from core.domain.models import Host, RuleInfo, RuleResult, Scan
from core.workspace import Workspace
from tests.seed import seed_job

# Everything that could point the app at a real LLM or carry a real key: never used by tests.
AI_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "COMPLIANCE_TUI_LLM_MODEL", "OPENAI_ADMIN_KEY",
          "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "PYTHON_KEYRING_BACKEND")
KEY = "sk-test-Q7rX2mP9vL4kW8nB3cJ6"  # a made-up key the tests look for everywhere
CONTENT = "c0ffee" * 10 + "abcd"
PREFIX = "xccdf_org.ssgproject.content_rule_"
ROOT_LOGIN = PREFIX + "sshd_disable_root_login"
HOSTILE = PREFIX + "hostile_title"
SCAN_ID = "9b1d2c3e-4f50-4a61-8b72-93a4b5c6d7e8"


class MemoryKeyring(KeyringBackend):
    """A keyring backend in memory: this machine has no Secret Service or KWallet session.
    Never chosen on its own (keyring picks any viable subclass): tests set it explicitly."""

    @properties.classproperty
    def priority(cls):
        raise RuntimeError("set explicitly by the tests that want a keyring")

    def __init__(self):
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        from keyring.errors import PasswordDeleteError

        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError("not stored")


RULES = [
    RuleInfo(ROOT_LOGIN, "Disable SSH Root Login", "medium",
             "The root user should never be allowed to login to a system directly over a network.",
             "Disallowing root logins over SSH requires system admins to authenticate using their own "
             "individual account, then escalating to root.",
             "Set PermitRootLogin no in /etc/ssh/sshd_config.",
             "if [ -e \"/etc/ssh/sshd_config\" ] ; then\n    LC_ALL=C sed -i \"/^\\s*PermitRootLogin\\s\\+/Id\" "
             "\"/etc/ssh/sshd_config\"\nfi\necho 'PermitRootLogin no' >> /etc/ssh/sshd_config"),
    RuleInfo(HOSTILE, "[bold red]Owned[/] \x1b]52;c;ZXZpbA==\x07 title", "high",
             "Text with [link=file:///etc/passwd]markup[/link] and \x1b[2J escapes.", "", "", ""),
]


async def seed_scan(data_dir: Path) -> Scan:
    """web01 (its name and address must never reach the LLM) with one completed scan."""
    async with await Workspace.open(data_dir) as workspace:
        store = workspace.store
        host = await store.add_host(Host(
            name="web01", address="10.9.8.7", username="scanner", os_id="ubuntu", os_version="22.04",
            os_name="Ubuntu 22.04.4 LTS (web01.corp.example)", os_family="debian"))
        job = await seed_job(store, host, scan_id=SCAN_ID, created_at="2025-03-01T10:00:00.000000Z")
        await store.save_content(CONTENT, "ssg-ubuntu2204-ds.xml", "xccdf_org.ssgproject.content_benchmark_UBUNTU_22-04",
                                 "0.1.65", RULES)
        await store.assign_content(SCAN_ID, "xccdf_org.ssgproject.content_profile_cis_level1_server", CONTENT, 3)
        results = [RuleResult(ROOT_LOGIN, "fail", "medium"), RuleResult(HOSTILE, "fail", "high"),
                   RuleResult(PREFIX + "no_texts", "pass", "low")]
        await store.complete_scan(SCAN_ID, results, {"fail": 2, "pass": 1}, 33.3, None, None, job_id=job.id)
        return await store.get_scan(SCAN_ID)


def write_config(path: Path, url: str, model: str = "test-model", timeout: float = 5) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[ai]\nbase_url = "{url}"\nmodel = "{model}"\ntimeout = {timeout}\n')
    return path


def files_containing(root: Path, secret: str) -> list[Path]:
    """Every file under root whose bytes contain secret (plain or as UTF-16, as a key could be kept)."""
    needles = [secret.encode(), secret.encode("utf-16-le")]
    return [p for p in root.rglob("*") if p.is_file() and any(n in p.read_bytes() for n in needles)]
