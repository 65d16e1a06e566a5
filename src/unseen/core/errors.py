"""One error hierarchy. The CLI maps each family to an exit code."""


class UnseenError(Exception):
    """Base of every error unseen raises on purpose."""

    exit_code = 1


class UserError(UnseenError):
    """The user asked for something impossible (bad path, unknown case, bad option)."""

    exit_code = 2


class ExternalDependencyError(UnseenError):
    """A program or library the task needs is missing."""

    exit_code = 3


class CaseError(UnseenError):
    """The case folder or database is missing, foreign or newer than this tool."""

    exit_code = 2


class EvidenceError(UnseenError):
    """An evidence item or source could not be read or parsed.

    Raised inside per-item work and turned into an error recorded against the item;
    it never stops a run.
    """


class WrongFormat(EvidenceError):
    """The content is not of the format a reader expected ("not mine")."""
