"""A PEP 517 build backend for the credplug package, with no requirement to
download: it compiles credplug/_native (python/src/native.cpp, pybind11)
against an installed libcredplug-host and writes the wheel itself.

Where libcredplug-host is: $CREDPLUG_PREFIX (an install prefix), else
pkg-config's credplug-host (PKG_CONFIG_PATH), else the prefix of the
`credplug` found on PATH. pybind11's headers: the pybind11 module if
importable, else Debian's pybind11-dev (/usr/include). $CXX picks the
compiler (default c++). Hand-written because setuptools, scikit-build and
meson-python would each be a download from PyPI, which a build machine may
not reach.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent


def _project() -> Tuple[str, str, str]:
    text = (ROOT / "pyproject.toml").read_text()
    project = text.split("[project]", 1)[1]

    def field(name: str) -> str:
        m = re.search(r'^%s\s*=\s*"([^"]*)"' % name, project, re.M)
        if not m:
            raise RuntimeError(f"pyproject.toml: [project] has no {name}")
        return m.group(1)

    return field("name"), field("version"), field("description")


def _fail(message: str) -> None:
    raise RuntimeError("credplug build: " + message)


def _library_flags() -> Tuple[List[str], List[str], str]:
    """(compile flags, link flags, the library's directory for the rpath)."""
    prefix = os.environ.get("CREDPLUG_PREFIX")
    if not prefix and shutil.which("pkg-config"):
        r = subprocess.run(["pkg-config", "--cflags", "--libs", "credplug-host"], capture_output=True, text=True)
        if r.returncode == 0:
            flags = shlex.split(r.stdout)
            libdirs = [f[2:] for f in flags if f.startswith("-L")]
            if not libdirs:
                _fail("pkg-config's credplug-host names no library directory")
            return ([f for f in flags if f.startswith("-I")], [f for f in flags if not f.startswith("-I")],
                    os.path.realpath(libdirs[0]))
    if not prefix:
        cli = shutil.which("credplug")
        if cli:
            prefix = str(Path(os.path.realpath(cli)).parent.parent)
    if not prefix:
        _fail("libcredplug-host not found: set CREDPLUG_PREFIX to where credplug is installed, "
              "or PKG_CONFIG_PATH to its lib/pkgconfig, or put its bin on PATH")
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    for libdir in (Path(prefix) / "lib", Path(prefix) / "lib" / multiarch, Path(prefix) / "lib64"):
        if (libdir / "libcredplug-host.so").exists() or list(libdir.glob("libcredplug-host.so.*")):
            include = Path(prefix) / "include"
            if not (include / "credplug" / "host.h").exists():
                _fail(f"{include}/credplug/host.h not found")
            return [f"-I{include}"], [f"-L{libdir}", "-lcredplug-host"], str(libdir.resolve())
    _fail(f"no libcredplug-host.so under {prefix}/lib")
    raise AssertionError  # unreachable


def _pybind11_flags() -> List[str]:
    try:
        import pybind11  # type: ignore[import-not-found]

        return ["-isystem", pybind11.get_include()]
    except ImportError:
        pass
    # The compiler's own directories: naming them again (-isystem
    # /usr/include) would break libstdc++'s #include_next.
    for candidate in ("/usr/include", "/usr/local/include"):
        if Path(candidate, "pybind11", "pybind11.h").exists():
            return []
    _fail("pybind11's headers not found: install Debian's pybind11-dev (or the pybind11 module)")
    raise AssertionError


def _compile(out_dir: Path) -> Path:
    cflags, ldflags, libdir = _library_flags()
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    target = out_dir / ("_native" + suffix)
    command = [os.environ.get("CXX", "c++"), "-std=c++17", "-O2", "-fPIC", "-shared", "-fvisibility=hidden",
               *cflags, *_pybind11_flags(), "-isystem", sysconfig.get_paths()["include"],
               str(ROOT / "src" / "native.cpp"), "-o", str(target), *ldflags, f"-Wl,-rpath,{libdir}"]
    print("credplug build:", " ".join(command), file=sys.stderr)
    subprocess.run(command, check=True)
    return target


def _tag() -> str:
    impl = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return f"{impl}-{impl}{getattr(sys, 'abiflags', '')}-{platform}"


def _metadata() -> str:
    name, version, description = _project()
    readme = (ROOT / "README.md").read_text() if (ROOT / "README.md").exists() else ""
    return (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {description}\n"
            "Requires-Python: >=3.9\nProvides-Extra: requests\nRequires-Dist: requests; extra == \"requests\"\n"
            "Provides-Extra: httpx\nRequires-Dist: httpx; extra == \"httpx\"\n"
            "Description-Content-Type: text/markdown\n\n" + readme)


def _dist_info() -> str:
    name, version, _ = _project()
    return f"{name}-{version}.dist-info"


# --- PEP 517 hooks ---------------------------------------------------------

def get_requires_for_build_wheel(config_settings: Optional[Dict] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[Dict] = None) -> List[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: Optional[Dict] = None) -> str:
    info = Path(metadata_directory) / _dist_info()
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(_metadata())
    return info.name


def build_wheel(wheel_directory: str, config_settings: Optional[Dict] = None,
                metadata_directory: Optional[str] = None) -> str:
    name, version, _ = _project()
    wheel_name = f"{name}-{version}-{_tag()}.whl"
    info = _dist_info()
    files: Dict[str, bytes] = {}
    for source in sorted((ROOT / "credplug").iterdir()):
        if source.is_file() and source.suffix in (".py", ".pyi", ".typed"):
            files[f"credplug/{source.name}"] = source.read_bytes()
    with tempfile.TemporaryDirectory() as work:
        native = _compile(Path(work))
        files[f"credplug/{native.name}"] = native.read_bytes()
    files[f"{info}/METADATA"] = _metadata().encode()
    files[f"{info}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: credplug_build\nRoot-Is-Purelib: false\n"
                              f"Tag: {_tag()}\n").encode()
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    out = Path(wheel_directory) / wheel_name
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            info_entry = zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0))
            info_entry.external_attr = (0o755 if path.endswith(".so") else 0o644) << 16
            z.writestr(info_entry, data, compress_type=zipfile.ZIP_DEFLATED)
    return wheel_name


def build_sdist(sdist_directory: str, config_settings: Optional[Dict] = None) -> str:
    import tarfile

    name, version, _ = _project()
    base = f"{name}-{version}"
    out = Path(sdist_directory) / f"{base}.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        for path in ("pyproject.toml", "README.md", "build_backend/credplug_build.py", "src/native.cpp"):
            if (ROOT / path).exists():
                tar.add(ROOT / path, f"{base}/{path}")
        for source in sorted((ROOT / "credplug").iterdir()):
            tar.add(source, f"{base}/credplug/{source.name}")
        pkg_info = tarfile.TarInfo(f"{base}/PKG-INFO")
        data = _metadata().encode()
        pkg_info.size = len(data)
        import io

        tar.addfile(pkg_info, io.BytesIO(data))
    return out.name
