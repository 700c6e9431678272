"""Where the bundled plugins are found (issue #10): next to the binary, in ../lib/mcpgate beside it (the layout
`scripts/install` writes), or in $MCPGATE_PLUGIN_DIR; and when one is missing, the gateway says in one line where
it looked and what to build, instead of starting without the policy."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import harness

POLICIES = ("cors", "jwt", "ratelimit", "cache")
CONFIG = """\
config:
  session: { keys: ["%s"] }
binds:
- port: %d
  address: 127.0.0.1
  listeners:
  - routes:
    - policies:
        cors: { allowOrigins: ["*"] }
        localRateLimit: [ { maxTokens: 10, fillInterval: 1s } ]
        cache: { ttl: 30s }
      backends:
      - mcp:
          targets:
          - name: t
            mcp: { host: http://127.0.0.1:9/mcp }
"""


def _check(binary: Path, config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), "check", "-f", str(config)], capture_output=True, text=True, timeout=60, env=env)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "policies.yaml"
    path.write_text(CONFIG % (harness.new_key(), harness.free_port()))
    return path


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MCPGATE_PLUGIN_DIR", "SESSION_KEY")}
    env.update(extra)
    return env


def test_a_binary_without_its_plugins_says_in_one_line_what_to_build(tmp_path: Path, config: Path):
    binary = harness.require_gateway()
    alone = tmp_path / "bin"
    alone.mkdir()
    shutil.copy2(binary, alone / "mcpgate")  # as after `swift build --product mcpgate`: no libmcpgate_*.so beside it
    r = _check(alone / "mcpgate", config, _env())
    assert r.returncode != 0, r.stdout
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr  # one line, no usage text
    line = lines[0]
    assert "policies.cors" in line and f"{config.name}:" in line, line  # where in the file
    assert "libmcpgate_cors.so not found in" in line and str(alone) in line, line
    assert "--product mcpgate_cors" in line and "MCPGATE_PLUGIN_DIR" in line, line


def test_plugins_are_found_in_lib_mcpgate_beside_an_installed_binary(tmp_path: Path, config: Path):
    binary = harness.require_gateway()
    prefix = tmp_path / "prefix"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "lib" / "mcpgate").mkdir(parents=True)
    shutil.copy2(binary, prefix / "bin" / "mcpgate")
    for name in POLICIES:
        shutil.copy2(binary.parent / f"libmcpgate_{name}.so", prefix / "lib" / "mcpgate")
    r = _check(prefix / "bin" / "mcpgate", config, _env())
    assert r.returncode == 0, r.stderr
    assert f"{config}: ok" in r.stdout, r.stdout


def test_the_plugin_directory_variable_wins(tmp_path: Path, config: Path):
    binary = harness.require_gateway()
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _check(binary, config, _env(MCPGATE_PLUGIN_DIR=str(empty)))
    assert r.returncode != 0 and f"not found in {empty}" in r.stderr, r.stderr
    r = _check(binary, config, _env(MCPGATE_PLUGIN_DIR=str(binary.parent)))
    assert r.returncode == 0, r.stderr
