"""Where the demo's lines come from: a person at a terminal, a pipe, or a script file.

One interface for all three, so a form's inputs are asked the same way whether a person
types them or the next lines of a script answer them. Non-interactive sources echo each line
after its prompt, so the output reads as the transcript of a chat session.
"""

import re
from collections.abc import Iterable, Iterator
from typing import Protocol, TextIO

from rich.console import Console
from rich.markup import escape

NOTE = re.compile(r"^#(?!\d)")  # `# a note` is a comment; `#12 1` presses a button


class LineSource(Protocol):
    """`read` returns the next line without its newline, or None at the end."""

    interactive: bool
    line_number: int  # of the line last read (script and pipe: its line in the input)

    def read(self, prompt: str) -> str | None: ...


class TerminalLines:
    """A person typing (rich's input, with line editing where readline is there)."""

    interactive = True

    def __init__(self, console: Console) -> None:
        self.console = console
        self.line_number = 0

    def read(self, prompt: str) -> str | None:
        try:
            line = self.console.input(f"[bold cyan]{escape(prompt)}[/]")
        except (EOFError, KeyboardInterrupt):
            self.console.print()
            return None
        self.line_number += 1
        return line


class EchoedLines:
    """Lines from a pipe or a script, each echoed after its prompt."""

    interactive = False

    def __init__(self, lines: Iterable[str], console: Console) -> None:
        self._lines: Iterator[str] = iter(lines)
        self.console = console
        self.line_number = 0

    def read(self, prompt: str) -> str | None:
        line = next(self._lines, None)
        if line is None:
            return None
        self.line_number += 1
        line = line.rstrip("\r\n")
        if not line.strip():
            self.console.print()
        elif NOTE.match(line.strip()):  # a script's narration, shown as such
            self.console.print(f"[dim]{escape(line)}[/]")
        else:
            self.console.print(f"[bold cyan]{escape(prompt)}[/]{escape(line)}")
        return line


def stream_lines(stream: TextIO) -> Iterator[str]:
    """A pipe read lazily, line by line, so a slow producer is answered as it types."""
    while True:
        line = stream.readline()
        if not line:
            return
        yield line
