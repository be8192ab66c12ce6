"""Errors that the command line turns into one-line messages instead of tracebacks."""


class TalkingHeadError(Exception):
    """Base class for errors caused by the user's input or environment, not by a bug."""


class InputError(TalkingHeadError, ValueError):
    """An input file or value is unusable (unreadable, empty, wrong kind). The message names it."""


class NoFaceError(InputError):
    """No face was found in an image."""


class UnknownNameError(TalkingHeadError, KeyError):
    """A pipeline, backend or other component name that no registry knows."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MissingWeightsError(TalkingHeadError, FileNotFoundError):
    """Optional third-party weights were asked for but are not where the user said they are."""


class MissingPackageError(TalkingHeadError, ImportError):
    """An optional dependency is not installed. The message says how to add it."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none): what a
    one-line report of a failed row or job shows."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
