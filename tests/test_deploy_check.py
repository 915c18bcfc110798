"""`manage.py check --deploy` with production settings must print no issue."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k8#Zq2v!pR7w@Lm4xT9s$Gh1bN6cY3fJ0uE5aD8oW2iV7rQ-not-a-real-key-x1",
    "ALLOWED_HOSTS": "servicedesk.example.cn",
    "DJANGO_SETTINGS_MODULE": "servicedesk.settings",
}


def run_check(**overrides):
    keep = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECURE_", "SESSION_", "CSRF_"))
    }
    env = keep | PRODUCTION | overrides
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = run_check()
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_check_deploy_catches_the_development_secret_key():
    result = run_check(SECRET_KEY="dev-only-not-secret")
    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout
