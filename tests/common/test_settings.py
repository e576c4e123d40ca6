"""Production mode refuses sandbox providers and insecure settings, and passes check --deploy.

Each case starts a fresh interpreter because settings are read once per process.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "PORTSIGN_MODE": "production",
    "PORTSIGN_SECRET_KEY": secrets.token_urlsafe(60),
    "PORTSIGN_PUBLIC_URL": "https://sign.example.cn",
    "PORTSIGN_ALLOWED_HOSTS": "sign.example.cn",
    "PORTSIGN_ALIYUN_ACCESS_KEY_ID": "test-id",
    "PORTSIGN_ALIYUN_ACCESS_KEY_SECRET": "test-secret",
    "PORTSIGN_ALIYUN_SMS_TEMPLATE_CODE": "SMS_000000",
    "PORTSIGN_TENCENT_SECRET_ID": "test-id",
    "PORTSIGN_TENCENT_SECRET_KEY": "test-key",
    "PORTSIGN_ALIPAY_APP_ID": "2021000000000000",
    "PORTSIGN_ALIPAY_PRIVATE_KEY_FILE": "/etc/portsign/alipay-app.pem",
    "PORTSIGN_ALIPAY_PUBLIC_KEY_FILE": "/etc/portsign/alipay-public.pem",
}


def _clean_env() -> dict[str, str]:
    # Browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never has it.
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PORTSIGN_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }


def _run(tmp_path: Path, extra: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = _clean_env()
    env.update(PORTSIGN_DATA_DIR=str(tmp_path), **extra)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_passes_check_deploy(tmp_path):
    result = _run(tmp_path, PRODUCTION_ENV, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"PORTSIGN_SANDBOX": "1"}, "refuses sandbox providers"),
        ({"PORTSIGN_SMS_GATEWAY": "sandbox"}, "refuses the sandbox SMS/e-mail gateways"),
        ({"PORTSIGN_DEBUG": "1"}, "PORTSIGN_DEBUG cannot be on"),
        ({"PORTSIGN_SECRET_KEY": "short"}, "at least 50 characters"),
        ({"PORTSIGN_ALIYUN_ACCESS_KEY_SECRET": ""}, "the Aliyun SMS gateway needs"),
        ({"PORTSIGN_REALNAME_PROVIDER": "sandbox"}, "refuses the sandbox real-name provider"),
        ({"PORTSIGN_TENCENT_SECRET_KEY": ""}, "the Tencent real-name provider needs"),
        ({"PORTSIGN_ALIPAY_APP_ID": ""}, "the Alipay payment provider needs"),
        ({"PORTSIGN_PAYMENT_PROVIDER": "sandbox"}, "refuses the sandbox payment provider"),
    ],
)
def test_production_refuses_unsafe_settings(tmp_path, extra, message):
    result = _run(tmp_path, {**PRODUCTION_ENV, **extra}, "check")
    assert result.returncode != 0
    assert message in result.stderr


def test_bad_boolean_is_refused(tmp_path):
    result = _run(tmp_path, {"PORTSIGN_DEBUG": "maybe"}, "check")
    assert result.returncode != 0
    assert "PORTSIGN_DEBUG must be one of" in result.stderr


def test_embedded_secret_is_generated_private(tmp_path):
    result = _run(tmp_path, {}, "check")
    assert result.returncode == 0, result.stderr
    secret = tmp_path / ".secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    assert len(secret.read_text().strip()) >= 50


def test_sandbox_outbox_absent_in_production(tmp_path):
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "c = Client(HTTP_HOST='sign.example.cn');"
        "print(c.get('/api/v1/sandbox/outbox', secure=True).status_code,"
        " c.get('/api/v1/openapi.json', secure=True).status_code)"
    )
    env = _clean_env()
    env.update(
        PORTSIGN_DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="portsign.settings",
        PYTHONPATH=str(ROOT / "src"),
        **PRODUCTION_ENV,
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["404", "200"]
