"""What is wrong with an upload, each problem named by its file, line and column."""

from dataclasses import dataclass, field

# Problems kept to show (the count goes on past it): enough to fix a file, bounded for a
# file that is wrong on every line.
KEEP = 1000


@dataclass(frozen=True)
class Problem:
    file: str  # "users.csv"; "" for the upload as a whole
    line: int | None  # the header is line 1; None for the file as a whole
    column: str  # the column's name in the OneRoster files; "" for none
    message: str


@dataclass
class Problems:
    found: list[Problem] = field(default_factory=list)
    total: int = 0

    def add(self, file: str, line: int | None, column: str, message: str) -> None:
        self.total += 1
        if len(self.found) < KEEP:
            self.found.append(Problem(file, line, column, message))

    def __bool__(self) -> bool:
        return self.total > 0

    def __len__(self) -> int:
        return self.total

    def ordered(self, files: tuple[str, ...]) -> list[Problem]:
        """The problems kept, file by file in the order of `files`, then by line."""
        rank = {name: index for index, name in enumerate(files)}
        return sorted(self.found, key=lambda p: (rank.get(p.file, -1), p.line or 0, p.column))
