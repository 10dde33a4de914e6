"""The README's tour, run as written: every `$ ` command of the code blocks between "## A five-minute tour"
and the next section, in order, from the source tree, with a fresh HOME (empty cache and profile store) and
a fresh /tmp/tour. Each command must exit 0, the repository must be left as it was, and the output shown
under a command must be what it prints: the same lines in the same order, numbers, this machine's paths and
the rows of tables aside (the README's outputs were recorded on a 2-core machine; on others, where plans
and tables differ, CONVEYOR_TOUR_STRICT=1 asks for the comparison anyway)."""

import difflib
import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

BINARY = os.environ["CONVEYOR_BINARY"]
SOURCE = Path(os.environ["CONVEYOR_SOURCE_DIR"])
TOUR_START = "## A five-minute tour"
README_HOME = "/root"  # where the README's outputs were recorded
README_TOUR_DIR = "/tmp/tour"
STDBUF_LIBRARY = "/usr/libexec/coreutils/libstdbuf.so"  # what `stdbuf -oL` preloads (Debian coreutils)


class Command:
    def __init__(self, text, shown, line):
        self.text, self.shown, self.line = text, shown, line


def tour_commands(readme):
    """Each `$ ` line of the tour's code blocks, with the output lines shown under it in the same block."""
    lines = readme.splitlines()
    start = lines.index(TOUR_START)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("## "))
    commands, in_block, current = [], False, None
    for number in range(start, end):
        line = lines[number]
        if line.startswith("```"):
            in_block, current = not in_block, None
            continue
        if not in_block:
            continue
        if line.startswith("$ "):
            current = Command(line[2:], [], number + 1)
            commands.append(current)
        elif current is not None:
            current.shown.append(line)
    return commands


def shapes(lines):
    """What must agree between shown and printed output: each line's first word with digits as '#', table
    rows as one '<row>', runs of equal shapes as one."""
    result, in_table = [], False
    for line in lines:
        words = line.split()
        if not words:
            in_table = False
            continue
        if in_table:
            shape = "<row>"
        else:
            shape = re.sub(r"\d+", "#", words[0])[:24]
            in_table = words[0] == "stage"
        if not result or result[-1] != shape:
            result.append(shape)
    return result


class Tour(unittest.TestCase):
    def setUp(self):
        self.home = Path(tempfile.mkdtemp(prefix="conveyor-tour-home-"))
        self.tour_dir = Path(tempfile.mkdtemp(prefix="conveyor-tour-"))

    def tearDown(self):
        shutil.rmtree(self.home, ignore_errors=True)
        shutil.rmtree(self.tour_dir, ignore_errors=True)

    def repository_state(self):
        if not (SOURCE / ".git").exists():
            return None
        return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=SOURCE,
                              capture_output=True, text=True, check=True).stdout

    def as_run_here(self, command):
        command = re.sub(r"(^|[\s;&|(])build/conveyor(?=\s)", lambda m: m.group(1) + BINARY, command)
        return command.replace(README_TOUR_DIR, str(self.tour_dir))

    def as_shown(self, output):
        return output.replace(str(self.tour_dir), README_TOUR_DIR).replace(str(self.home), README_HOME)

    def test_every_command_runs_as_written_and_prints_what_is_shown(self):
        commands = tour_commands((SOURCE / "README.md").read_text())
        self.assertGreater(len(commands), 10, "the tour's commands were not found in README.md")
        strict = os.cpu_count() == 2 or os.environ.get("CONVEYOR_TOUR_STRICT") == "1"
        env = dict(os.environ, HOME=str(self.home))
        env.pop("XDG_CACHE_HOME", None)
        # stdout line-buffered as on a terminal, so it interleaves with stderr as the README shows it
        env.update(_STDBUF_O="L", LD_PRELOAD=STDBUF_LIBRARY)
        before = self.repository_state()
        for command in commands:
            with self.subTest(command=command.text, readme_line=command.line):
                done = subprocess.run(["bash", "-c", "set -o pipefail; " + self.as_run_here(command.text)],
                                      cwd=SOURCE, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True, timeout=900)
                printed = self.as_shown(done.stdout)
                self.assertEqual(done.returncode, 0,
                                 f"README.md:{command.line}: `{command.text}` exited {done.returncode}:\n{printed}")
                if strict and command.shown:
                    shown, got = shapes(command.shown), shapes(printed.splitlines())
                    self.assertEqual(shown, got,
                                     f"README.md:{command.line}: `{command.text}` printed other lines than shown "
                                     "(line shapes: README -> printed):\n" +
                                     "\n".join(difflib.unified_diff(shown, got, lineterm="")) +
                                     "\nprinted:\n" + printed)
        self.assertEqual(before, self.repository_state(), "the tour wrote into the repository")


if __name__ == "__main__":
    unittest.main()
