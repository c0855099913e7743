"""The one exception type for user errors: bad files, bad config, unknown names, unusable paths."""

import errno


class CarelensError(Exception):
    """A user error. The message says what went wrong and where (file:line or config key).

    The CLI prints it without a traceback and exits with code 2.
    """

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


_REASONS = {
    errno.ENOTDIR: "a file stands where a folder is needed",
    errno.EISDIR: "a folder stands where a file is needed",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.ENAMETOOLONG: "file name too long",
}


def path_error(exc: OSError) -> CarelensError:
    """A CarelensError naming the path an OSError hit (e.g. a run directory that cannot be written)."""
    reason = _REASONS.get(exc.errno or 0) or exc.strerror or type(exc).__name__
    path = str(exc.filename) + (f" -> {exc.filename2}" if exc.filename2 is not None else "")
    return CarelensError(f"cannot read or write here: {reason} (choose a path you can write, e.g. "
                         "with --output)", where=path)
