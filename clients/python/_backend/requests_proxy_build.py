"""A PEP 517 build backend in the standard library alone.

pip builds a local folder in an isolated environment and installs the backend's
``requires`` from an index first; with ``requires = []`` and this in-tree backend there is
nothing to fetch, so ``pip install ./clients/python`` works offline (no setuptools needed).
It builds a pure-Python wheel of ``src/requests_proxy_client`` (and an sdist), and supports
PEP 660 editable installs with a ``.pth`` file.
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PACKAGE = "requests_proxy_client"
_SOURCE = os.path.join(_ROOT, "src", _PACKAGE)


def _project():
    """name, version, requires-python, description from pyproject.toml ([project] table)."""
    with open(os.path.join(_ROOT, "pyproject.toml"), encoding="utf-8") as handle:
        text = handle.read()
    try:
        import tomllib  # Python >= 3.11

        table = tomllib.loads(text)["project"]
        return {k: table[k] for k in ("name", "version", "requires-python", "description")}
    except ImportError:
        # Python 3.9/3.10: the four keys are plain one-line strings in our own file.
        section = text.split("[project]", 1)[1]
        found = {}
        for key in ("name", "version", "requires-python", "description"):
            match = re.search(r'^%s\s*=\s*"([^"]*)"' % re.escape(key), section, re.M)
            if match is None:
                raise RuntimeError("pyproject.toml: [project] %s is missing" % key)
            found[key] = match.group(1)
        return found


def _dist_name(project):
    return re.sub(r"[-_.]+", "_", project["name"]).lower()


def _metadata(project):
    readme_path = os.path.join(_ROOT, "README.md")
    readme = ""
    if os.path.exists(readme_path):
        with open(readme_path, encoding="utf-8") as handle:
            readme = handle.read()
    lines = [
        "Metadata-Version: 2.1",
        "Name: %s" % project["name"],
        "Version: %s" % project["version"],
        "Summary: %s" % project["description"],
        "Requires-Python: %s" % project["requires-python"],
        "License: MIT",
    ]
    if readme:
        lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + readme


def _package_files():
    for folder, _, files in os.walk(_SOURCE):
        for name in sorted(files):
            if name.endswith(".py") or name == "py.typed":
                full = os.path.join(folder, name)
                yield full, os.path.relpath(full, os.path.join(_ROOT, "src")).replace(os.sep, "/")


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def _write_wheel(wheel_directory, entries):
    project = _project()
    dist = _dist_name(project)
    info = "%s-%s.dist-info" % (dist, project["version"])
    entries = list(entries)
    entries.append(("%s/METADATA" % info, _metadata(project).encode("utf-8")))
    entries.append((
        "%s/WHEEL" % info,
        b"Wheel-Version: 1.0\nGenerator: requests_proxy_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    ))
    record = [_record_line(path, data) for path, data in entries]
    record.append("%s/RECORD,," % info)
    entries.append(("%s/RECORD" % info, ("\n".join(record) + "\n").encode("utf-8")))
    name = "%s-%s-py3-none-any.whl" % (dist, project["version"])
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in entries:
            # A fixed timestamp keeps the wheel reproducible.
            item = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            item.external_attr = 0o644 << 16
            wheel.writestr(item, data, zipfile.ZIP_DEFLATED)
    return name


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    entries = []
    for full, relative in _package_files():
        with open(full, "rb") as handle:
            entries.append((relative, handle.read()))
    return _write_wheel(wheel_directory, entries)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # The .pth line puts src/ on sys.path: edits take effect without reinstalling.
    pth = (os.path.join(_ROOT, "src") + "\n").encode("utf-8")
    return _write_wheel(wheel_directory, [("%s.pth" % _PACKAGE, pth)])


def build_sdist(sdist_directory, config_settings=None):
    project = _project()
    base = "%s-%s" % (_dist_name(project), project["version"])
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as sdist:
        for relative in ("pyproject.toml", "README.md", "_backend/requests_proxy_build.py"):
            full = os.path.join(_ROOT, relative)
            if os.path.exists(full):
                sdist.add(full, arcname="%s/%s" % (base, relative))
        for full, relative in _package_files():
            sdist.add(full, arcname="%s/src/%s" % (base, relative))
        data = _metadata(project).encode("utf-8")
        item = tarfile.TarInfo("%s/PKG-INFO" % base)
        item.size = len(data)
        sdist.addfile(item, io.BytesIO(data))
    return name
