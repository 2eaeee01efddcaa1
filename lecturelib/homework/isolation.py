"""The sandbox every run of student code starts in: bubblewrap (``bwrap``, Debian package ``bubblewrap``).

:func:`command` turns the command line of the kernel (or of the function sandbox) into a ``bwrap`` command line.
The process then sees, read-only: the system (``/usr`` and the merged-usr links, a short list of ``/etc`` files,
nothing else of ``/etc``), the Python environment (``sys.prefix`` and ``sys.base_prefix``, the site-packages, the
user site when it exists) and the ``lecturelib`` package the grader itself imports (only the package folder: for a
course checkout that is ``lecturelib/``, never ``book/`` with the solutions and hidden cases). Writable: a
size-limited private tmpfs at ``/tmp`` (its working directory and ``HOME``), a small tmpfs at ``/dev/shm``, and the
folders the caller names (the kernel's socket folder). Everything else (the instructor's home, the other
submissions, the output folder, the folder the grader started from) does not exist in there: the root is an empty
read-only tmpfs holding only these mounts.

The process runs in new user, PID, network, IPC, UTS and cgroup namespaces, as uid 65534 with no capabilities
(so it can neither remount nor make namespaces of its own: ``--disable-userns``); ``--die-with-parent`` and the
PID namespace end every process it started when the run ends (the kernel, or the grader, is its parent);
``--new-session`` keeps it off the grader's terminal. The environment is cleared: only ``PATH``, the locale, and the
variables that decide numerical results (``OPENBLAS_CORETYPE``, ``LECTURELIB_PERTURB``) pass from the grader;
``OPENBLAS_NUM_THREADS`` and friends are 1.

:func:`check` runs ``bwrap`` once with the same mounts and says why it cannot, with how to fix it.
``python -m lecturelib.homework.isolation`` prints that verdict (exit status 0 when the sandbox works).
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["IsolationUnavailable", "check", "command", "environment", "read_only_paths", "seal"]

SANDBOX_UID = 65534
ETC = (
    "passwd",
    "group",
    "hosts",
    "nsswitch.conf",
    "host.conf",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "alternatives",
    "fonts",
    "mime.types",
    "ssl",
    "ca-certificates",
)
PASSED = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "OPENBLAS_CORETYPE", "LECTURELIB_PERTURB")
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
HOW_TO_FIX = (
    "Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap) and grade as "
    "root or as a user allowed to create user namespaces (Debian: sysctl kernel.unprivileged_userns_clone=1; "
    "Ubuntu 24.04: an AppArmor profile for bwrap, or sysctl kernel.apparmor_restrict_unprivileged_userns=0). "
    "Or pass --no-isolation to run student code with your own permissions (every output then says so)."
)


class IsolationUnavailable(RuntimeError):
    """The sandbox cannot be made on this machine; the message says why and how to fix it."""


def _bwrap() -> str:
    if not sys.platform.startswith("linux"):
        raise IsolationUnavailable(
            f"student code cannot be sandboxed on {sys.platform}: the grader's sandbox (bubblewrap) needs Linux. "
            "Grade on Linux, in a Linux virtual machine or on Gradescope, or pass --no-isolation to run student "
            "code with your own permissions (every output then says so)."
        )
    found = shutil.which("bwrap")
    if found is None:
        raise IsolationUnavailable(
            f"bubblewrap (bwrap) is not installed, so student code cannot be sandboxed. {HOW_TO_FIX}"
        )
    return found


def _library_folder() -> Path:
    import lecturelib

    return Path(lecturelib.__file__).resolve().parent


def read_only_paths() -> list[Path]:
    """The Python environment and the course library, as the sandbox sees them (read-only), without duplicates."""
    candidates = [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix, *site.getsitepackages()]
    user_site = site.getusersitepackages() if site.ENABLE_USER_SITE else None
    if user_site and os.path.isdir(user_site):
        candidates.append(user_site)
    candidates.append(str(_library_folder()))
    paths: list[Path] = []
    for candidate in candidates:
        for path in (Path(os.path.abspath(candidate)), Path(candidate).resolve()):
            if path.is_dir() and path != Path("/") and path not in paths:
                paths.append(path)
    # A folder inside another one is mounted with it.
    return [p for p in paths if not any(q != p and q in p.parents for q in paths)]


def environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The sandboxed process's whole environment: a few of the grader's variables, and the sandbox's own."""
    env = {name: os.environ[name] for name in PASSED if name in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    env.update({name: "1" for name in THREAD_VARIABLES})
    env.update(
        {
            "HOME": "/tmp",
            "TMPDIR": "/tmp",
            "USER": "student",
            "PYTHONPATH": str(_library_folder().parent),
            "PYTHONDONTWRITEBYTECODE": "1",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": "/tmp/.matplotlib",
        }
    )
    env.update(extra or {})
    return env


def _system_mounts() -> list[str]:
    arguments: list[str] = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            arguments += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            arguments += ["--ro-bind", str(path), str(path)]
    for name in ETC:
        if (Path("/etc") / name).exists():
            arguments += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    return arguments


def _font_cache() -> list[str]:
    """matplotlib's font list, copied read-only into the sandbox, so that each kernel need not rebuild it."""
    folder = os.environ.get("MPLCONFIGDIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "matplotlib"
    )
    arguments: list[str] = []
    if os.path.isdir(folder):
        for path in sorted(Path(folder).glob("fontlist-v*.json")):
            arguments += ["--ro-bind", str(path), f"/tmp/.matplotlib/{path.name}"]
    return arguments


def command(
    argv: Sequence[str],
    *,
    scratch_mb: int,
    writable: Sequence[Path | str] = (),
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """The ``bwrap`` command line that runs ``argv`` in the sandbox (``writable``: folders bound read-write)."""
    if isinstance(scratch_mb, bool) or not isinstance(scratch_mb, int) or scratch_mb < 16:
        raise ValueError(f"scratch_mb must be an integer >= 16 (MB), got {scratch_mb!r}")
    arguments = [
        _bwrap(),
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
    ]
    for name, value in sorted(environment(env).items()):
        arguments += ["--setenv", name, value]
    arguments += ["--size", str(scratch_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    arguments += _system_mounts()
    for path in read_only_paths():
        arguments += ["--ro-bind", str(path), str(path)]
    arguments += _font_cache()
    arguments += ["--proc", "/proc", "--dev", "/dev", "--size", str(16 * 1024 * 1024), "--tmpfs", "/dev/shm"]
    arguments += ["--remount-ro", "/dev"]
    for folder in writable:
        arguments += ["--bind", str(folder), str(folder)]
    arguments += ["--chdir", "/tmp", "--remount-ro", "/", "--", *argv]
    return arguments


def check(protected: Sequence[Path | str] = (), scratch_mb: int = 64) -> None:
    """Raise :class:`IsolationUnavailable` unless the sandbox can be made here and hides every ``protected`` folder.

    ``protected``: folders student code must not see (the submissions, the output folder, the instructor's
    sources, the folder the grader started from); the sandbox refuses when a folder it would mount holds one.
    """
    mounted = [Path("/usr"), *read_only_paths()]
    for folder in protected:
        path = Path(folder).resolve()
        for mount in mounted:
            if mount == path or mount in path.parents:
                raise IsolationUnavailable(
                    f"the sandbox would show {path} to student code: it lies inside {mount}, which the sandbox "
                    "mounts (the Python environment or the course library). Keep submissions, outputs and the "
                    "course sources outside the Python environment, or install the environment elsewhere."
                )
    probe = "import lecturelib.homework.codec, os; print(os.getuid())"
    argv = command([sys.executable, "-c", probe], scratch_mb=scratch_mb)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise IsolationUnavailable(f"bubblewrap could not be run ({err}). {HOW_TO_FIX}") from err
    if done.returncode != 0 or done.stdout.strip() != str(SANDBOX_UID):
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise IsolationUnavailable(f"bubblewrap could not make the sandbox ({reason}). {HOW_TO_FIX}")


def seal(folder: Path | str) -> bool:
    """Make a folder bound into a running sandbox unwritable from inside it (its sockets stay usable).

    Sandboxed code runs as the grader's own user outside its namespace, without capabilities: handing the folder
    and its files to another user (root can) leaves it only the permissions of "others". Return whether that
    worked; where it cannot (the grader is not root), the folder is only made read-only for its owner.
    """
    folder = Path(folder)
    entries = [folder, *folder.iterdir()]
    try:
        for path in entries:
            os.chown(path, SANDBOX_UID, SANDBOX_UID, follow_symlinks=False)
        for path in entries:
            if path.is_dir() or path.is_file():
                os.chmod(path, 0o555 if path.is_dir() else 0o444)
        return True
    except PermissionError:
        folder.chmod(0o555)
        return False


def main() -> int:
    try:
        check()
    except IsolationUnavailable as err:
        sys.stdout.write(f"not isolated: {err}\n")
        return 1
    sys.stdout.write("the sandbox works: bubblewrap\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
