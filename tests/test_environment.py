"""The pinned environment: requirements files, environment.yml and the installed packages agree."""

import re
from importlib.metadata import version

import yaml

from conftest import ROOT

PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)")


def pins(lines):
    out = {}
    for line in lines:
        match = PIN.match(line.strip())
        if match:
            out[match.group(1).lower()] = match.group(2)
    return out


def requirement_pins():
    return pins((ROOT / "requirements.txt").read_text().splitlines())


def conda_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "python=3.11" in env["dependencies"]
    return pins(pip_section)


def test_every_requirement_is_pinned_exactly():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert PIN.match(line), f"not pinned with ==: {line}"


def test_environment_yml_has_the_same_pins_as_requirements():
    conda = conda_pins()
    tf = conda.pop("tensorflow")
    assert conda == requirement_pins()
    cpu = pins((ROOT / "requirements-cpu.txt").read_text().splitlines())
    gpu = pins((ROOT / "requirements-gpu.txt").read_text().splitlines())
    assert set(cpu.values()) == {tf} and gpu == {"tensorflow[and-cuda]": tf}


def test_the_lock_agrees_with_the_direct_pins():
    lock = pins((ROOT / "requirements.lock").read_text().splitlines())
    for name, pinned in requirement_pins().items():
        assert lock.get(name) == pinned, f"requirements.lock has {name}=={lock.get(name)}, requirements.txt {pinned}"


def test_installed_versions_are_the_pinned_ones():
    for name, pinned in requirement_pins().items():
        assert version(name) == pinned, name
    assert version("tensorflow-cpu" if _has("tensorflow-cpu") else "tensorflow") == "2.21.0"


def _has(dist):
    try:
        version(dist)
        return True
    except Exception:
        return False


def test_the_course_kernel_is_installed():
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("tf-course")
    assert spec.display_name == "Python (TF course)"


def test_nbgrader_server_extensions_are_enabled():
    import json
    import sys
    from pathlib import Path

    config = Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / "nbgrader.json"
    enabled = json.loads(config.read_text())["ServerApp"]["jpserver_extensions"]
    for extension in ("formgrader", "assignment_list", "course_list", "validate_assignment"):
        assert enabled[f"nbgrader.server_extensions.{extension}"] is True
