#!/usr/bin/python3
"""check-deps.py: proves that the project's own scripts install everything
the tests use.

It lists what the tests import and run, finds the Debian package that
provides each on this machine, and checks that the package is named in
scripts/setup.sh (or scripts/setup-dashboard.sh), or is one that every Debian
system has (priority "required", or pulled in by a named package).

  - Python: every module imported by the Python files under tests/, scripts/,
    builders/ and common/python/ that is neither in Python's standard
    library nor one of the project's own modules;
  - commands: every command word of the shell scripts under tests/ and
    scripts/ (the first word of each simple command, after assignments and
    the words that run another command: exec, env, timeout, ...), less the
    shell's builtins, keywords and the scripts' own functions;
  - the commands named in CMake files' add_test() and COMMAND lines.

Run by scripts/test.sh after setup; --list prints each use with its package. Exits 1 and names each thing whose
package setup.sh does not install, with the file and line that uses it.
"""
import ast
import os
import re
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SETUP_FILES = ["scripts/setup.sh", "scripts/setup-dashboard.sh"]
# What the tests run: everything under tests/, the Python SDK, examples and
# client they load, and the scripts that scripts/test.sh calls. The
# benchmarks and the fuzzing script are tools, not tests, and say what they
# need themselves.
PY_ROOTS = ["tests", "builders", "common/python"]
PY_FILES = ["scripts/editor_client.py"]
SH_ROOTS = ["tests"]
SH_FILES = [".ci/run", "scripts/test.sh", "scripts/build.sh", "scripts/build-matrix.sh",
            "scripts/setup.sh", "scripts/setup-dashboard.sh"]
SKIP_DIRS = {"node_modules", "__pycache__", ".git"}

# Words that are the shell's own, never a program from a package.
SHELL_WORDS = set("""
    if then else elif fi case esac for while until do done in function select time
    ! { } [[ ]] [ . : source alias bg bind break builtin caller cd command compgen
    complete continue declare dirs disown echo enable eval exec exit export false fc
    fg getopts hash help history jobs kill let local logout mapfile popd printf pushd
    pwd read readarray readonly return set shift shopt suspend test times trap true
    type typeset ulimit umask unalias unset wait coproc
""".split())

# Words that run the command that follows them.
PREFIX_WORDS = {"exec", "env", "nohup", "time", "command", "builtin", "sudo", "setsid",
                "nice", "ionice", "stdbuf", "unshare", "\\time", "$SUDO", "!"}
# Words that take an argument before the command they run.
PREFIX_WITH_ARG = {"timeout": 1, "nice": 0, "taskset": 1, "chrt": 1, "prlimit": 0}

# Packages every Debian 12 system has, so no script needs to install them.
def required_packages():
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Priority} ${Essential}\n"],
                         capture_output=True, text=True, check=True).stdout
    req = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and (parts[1] == "required" or (len(parts) > 2 and parts[2] == "yes")):
            req.add(parts[0])
    return req


def setup_packages():
    """The packages the setup scripts name, with everything they depend on."""
    named = set()
    for rel in SETUP_FILES:
        text = open(os.path.join(HERE, rel)).read()
        # setup.sh: PACKAGES=( ... ); setup-dashboard.sh: missing+=(name)
        m = re.search(r"PACKAGES=\((.*?)\)", text, re.S)
        if m:
            named.update(w for w in m.group(1).split() if not w.startswith("#"))
        named.update(re.findall(r"missing\+=\(([a-z0-9][a-z0-9.+-]*)\)", text))
    return named


def dependency_closure(names):
    """names and every package they depend on (Depends and Pre-Depends), as
    installed here; a package that setup.sh names brings these with it."""
    seen = set()
    todo = list(names)
    while todo:
        batch = [p for p in todo if p not in seen]
        todo = []
        if not batch:
            break
        seen.update(batch)
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Depends}, ${Pre-Depends}\n"] + batch,
                           capture_output=True, text=True)
        for line in r.stdout.splitlines():
            _, _, deps = line.partition("\t")
            for alt in deps.split(","):
                for d in alt.split("|"):
                    d = d.strip().split(" ")[0].split(":")[0]
                    if d and d not in seen:
                        todo.append(d)
    return seen


def owner(path):
    """The package that installed path, or None. Debian 12 merges /bin into
    /usr/bin, while packages still list /bin: both spellings are asked."""
    real = os.path.realpath(path)
    cands = [path, real]
    for q in (path, real):
        if q.startswith("/usr/"):
            cands.append(q[4:])
        else:
            cands.append("/usr" + q)
    for p in cands:
        r = subprocess.run(["dpkg-query", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0].split(",")[0].strip()
    return None


def walk(roots, pred):
    for root in roots:
        for d, dirs, files in os.walk(os.path.join(HERE, root)):
            dirs[:] = [x for x in dirs if x not in SKIP_DIRS]
            for f in sorted(files):
                p = os.path.join(d, f)
                if pred(p):
                    yield p


def rel(p):
    return os.path.relpath(p, HERE)


def local_python_modules():
    names = set()
    for p in walk(PY_ROOTS + ["builders/sdk/python"], lambda p: p.endswith(".py")):
        names.add(os.path.splitext(os.path.basename(p))[0])
        names.add(os.path.basename(os.path.dirname(p)))
    # Names a builder's environment provides, not a package: O3DE's azlmbr is
    # what the Python SDK's examples are written against and is stubbed there.
    names.add("azlmbr")
    return names


def python_uses():
    uses = {}
    for p in list(walk(PY_ROOTS, lambda p: p.endswith(".py"))) + [os.path.join(HERE, f) for f in PY_FILES]:
        try:
            tree = ast.parse(open(p, encoding="utf-8").read(), p)
        except SyntaxError as e:
            print(f"check-deps: {rel(p)}:{e.lineno}: cannot parse: {e.msg}", file=sys.stderr)
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mods = [node.module]
            else:
                continue
            for m in mods:
                uses.setdefault(m.split(".")[0], f"{rel(p)}:{node.lineno}")
    return uses


def shell_functions(text):
    return set(re.findall(r"^\s*(?:function\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*\(\)", text, re.M))


def matching(text, i):
    """The index just past the ')' that closes the '(' at text[i], passing
    over quotes and nested parentheses."""
    depth, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = text.find("'", i + 1)
            i = n if j < 0 else j + 1
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def shell_command_words(text):
    """(word, line) for the first word of every simple command in a shell
    script. A small scanner that follows quotes across lines, comments, here
    documents, command substitutions and case patterns: enough for the
    project's own scripts, and it errs on the side of finding too little
    rather than reading a string as a command."""
    out = []
    i, n, line = 0, len(text), 1
    at_start = True      # the next word starts a command
    skip = 0             # words to pass over (timeout's duration)
    pending_heredocs = []
    word, word_line = "", 1

    redirect = False

    def finish():
        nonlocal word, at_start, skip, redirect
        w = word
        word = ""
        if not w:
            return
        if redirect:
            redirect = False
            return
        if not at_start:
            return
        if w.startswith("-"):
            if w in ("-s", "-k", "--signal", "--kill-after"):
                skip += 1  # timeout's options that take a value
            return
        if skip:
            skip -= 1
            return
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=", w):
            return  # an assignment before the command
        if w in ("if", "then", "else", "elif", "do", "while", "until", "!", "{", "time") or w in PREFIX_WORDS:
            return
        if w in PREFIX_WITH_ARG:
            skip = PREFIX_WITH_ARG[w]
        out.append((w, word_line))
        if w not in PREFIX_WITH_ARG:
            at_start = False

    in_case = 0
    case_words = 0
    while i < n:
        c = text[i]
        if c in " \t\n" and word == "in" and case_words:
            # "case WORD in": the first pattern follows, up to its ')'.
            word = ""
            case_words = 0
            in_case += 1
            m = re.match(r"\s*(?!esac\b)[^\n()]*\)", text[i:])
            if m:
                line += m.group(0).count("\n")
                i += m.end()
            at_start = True
            continue
        if c == "\\" and i + 1 < n:
            if text[i + 1] == "\n":
                line += 1
            else:
                if not word:
                    word_line = line
                word += text[i + 1]
            i += 2
            continue
        if c == "'":
            j = text.find("'", i + 1)
            j = n if j < 0 else j
            line += text.count("\n", i, j)
            if not word:
                word_line = line
            word += text[i + 1:j] or "''"
            i = j + 1
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\":
                    j += 2
                elif text.startswith("$((", j):
                    j = matching(text, j + 1)
                elif text.startswith("$(", j):
                    # A command substitution inside quotes: its commands
                    # are scanned on their own.
                    e = matching(text, j + 1)
                    first = line + text.count("\n", i, j)
                    out.extend((w, first + ln - 1) for w, ln in shell_command_words(text[j + 2:e - 1]))
                    j = e
                else:
                    j += 1
            line += text.count("\n", i, j)
            if not word:
                word_line = line
            word += '""'
            i = j + 1
            continue
        if c == "$" and text.startswith("$((", i) or (c == "(" and text.startswith("((", i) and not word):
            # Arithmetic: no commands inside.
            j = matching(text, i + (1 if c == "$" else 0))
            line += text.count("\n", i, j)
            word += "0"
            i = j
            continue
        if c == "(" and word.endswith("="):
            # An array assignment: words, not commands.
            j = matching(text, i)
            line += text.count("\n", i, j)
            word = ""
            i = j
            continue
        if c == "#" and not word:
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "\n":
            finish()
            line += 1
            i += 1
            if pending_heredocs:
                # The bodies follow this line: pass over them.
                for delim in pending_heredocs:
                    while i < n:
                        j = text.find("\n", i)
                        j = n if j < 0 else j
                        body = text[i:j]
                        i = j + 1
                        line += 1
                        if body.strip() == delim:
                            break
                pending_heredocs = []
            at_start = True
            continue
        if c == "<" and text.startswith("<<", i) and not text.startswith("<<<", i):
            finish()
            m = re.match(r"<<-?\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?", text[i:])
            if m:
                pending_heredocs.append(m.group(1))
                i += m.end()
                continue
        if c == "$" and text.startswith("$(", i) and not text.startswith("$((", i):
            finish()
            at_start = True
            i += 2
            continue
        if c == "`":
            finish()
            at_start = True
            i += 1
            continue
        if c in " \t":
            w = word
            finish()
            if w == "case":
                case_words = 1
            i += 1
            continue
        if c in ";&|(":
            finish()
            if text.startswith(";;", i) and in_case:
                # What follows up to ')' is the next pattern, unless the
                # case ends here.
                m = re.match(r";;&?\s*(?!esac\b)[^\n()]*\)", text[i:])
                if m:
                    line += m.group(0).count("\n")
                    i += m.end()
                else:
                    i += 2
                at_start = True
                continue
            at_start = True
            i += 1
            continue
        if c == ")":
            finish()
            i += 1
            continue
        if c in "<>":
            finish()
            # The word after a redirection is a file, no command.
            i += 1
            while i < n and text[i] in "<>&":
                i += 1
            if i < n and text[i] in "0123456789-" and text[i - 1] == "&":
                i += 1  # 2>&1, >&-
            else:
                redirect = True
            continue
        if c == "$" and text.startswith("${", i):
            j = text.find("}", i)
            j = n if j < 0 else j + 1
            line += text.count("\n", i, j)
            if not word:
                word_line = line
            word += "$"
            i = j
            continue
        if not word:
            word_line = line
        word += c
        if word == "esac":
            in_case = max(0, in_case - 1)
        i += 1
    finish()
    return out


def is_shell(p):
    return p.endswith(".sh")


def shell_uses():
    uses = {}
    files = list(walk(SH_ROOTS, is_shell)) + [os.path.join(HERE, f) for f in SH_FILES]
    funcs = set()
    texts = {}
    for p in files:
        texts[p] = open(p, encoding="utf-8", errors="replace").read()
        funcs |= shell_functions(texts[p])
    for p in files:
        for w, n in shell_command_words(texts[p]):
            if w in SHELL_WORDS or w in funcs:
                continue
            if not re.match(r"^[A-Za-z][A-Za-z0-9_.+-]*$|^/usr/bin/[A-Za-z0-9_.+-]+$", w):
                continue  # a variable, a path of the project's, a glob
            uses.setdefault(w, f"{rel(p)}:{n}")
    return uses


def cmake_uses():
    uses = {}
    for p in walk(["."], lambda p: p.endswith("CMakeLists.txt") or p.endswith(".cmake")):
        if "/build" in rel(p).split(os.sep)[0]:
            continue
        for n, line in enumerate(open(p, encoding="utf-8"), 1):
            m = re.search(r"\bCOMMAND\s+(/usr/bin/[A-Za-z0-9_.+-]+|bash|node|npm)\b", line)
            if m:
                uses.setdefault(m.group(1), f"{rel(p)}:{n}")
    return uses


LIST = "--list" in sys.argv[1:]


def main():
    installed_by_setup = dependency_closure(setup_packages())
    required = required_packages()
    problems = []
    checked = 0

    local = local_python_modules()
    stdlib = set(sys.stdlib_module_names)
    for mod, where in sorted(python_uses().items()):
        if mod in stdlib or mod in local or mod == "__future__":
            continue
        checked += 1
        r = subprocess.run(["/usr/bin/python3", "-c", f"import {mod}; print({mod}.__file__)"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            problems.append(f"{where}: Python module {mod} cannot be imported by /usr/bin/python3")
            continue
        pkg = owner(r.stdout.strip())
        if pkg is None:
            problems.append(f"{where}: Python module {mod} ({r.stdout.strip()}) comes from no Debian package")
        elif pkg not in installed_by_setup and pkg not in required:
            problems.append(f"{where}: Python module {mod} is in package {pkg}, which setup.sh does not install")
        if LIST:
            print(f"  python {mod:<24} {pkg or '-':<24} {where}")

    cmds = shell_uses()
    for k, v in cmake_uses().items():
        cmds.setdefault(k, v)
    for cmd, where in sorted(cmds.items()):
        path = cmd if cmd.startswith("/") else None
        if path is None:
            r = subprocess.run(["bash", "-c", f"type -P -- {shlex.quote(cmd)}"], capture_output=True, text=True)
            path = r.stdout.strip() or None
        if path is None:
            # Not on PATH here: the project's own binaries (kiln, tb_echo, ...)
            # are called through $KILN_BIN; anything else is missing.
            if not os.path.exists(os.path.join(HERE, "build", "bin", cmd)) and \
               not any(os.path.exists(os.path.join(HERE, d, cmd)) for d in ("scripts", "tests", "builders")):
                problems.append(f"{where}: command {cmd} is not installed")
            continue
        checked += 1
        pkg = owner(path)
        if pkg is None and not cmd.startswith("/"):
            # Found first somewhere else on this machine's PATH (pyenv's
            # python3, a local stand-in): a fresh Debian machine runs the
            # one in /usr/bin or /usr/sbin, if a package puts one there.
            for d in ("/usr/bin", "/usr/sbin", "/bin", "/sbin"):
                if os.path.exists(os.path.join(d, cmd)):
                    pkg = owner(os.path.join(d, cmd))
                    if pkg:
                        break
        if pkg is None:
            if path.startswith(HERE) or "/node_modules/" in path:
                continue
            problems.append(f"{where}: command {cmd} ({path}) comes from no Debian package")
        elif pkg not in installed_by_setup and pkg not in required:
            problems.append(f"{where}: command {cmd} is in package {pkg}, which setup.sh does not install")
        if LIST:
            print(f"  command {cmd:<23} {pkg or '(project)':<24} {where}")

    for p in problems:
        print("check-deps: " + p)
    print(f"check-deps: {checked} modules and commands the tests use, "
          f"{len(problems)} not installed by setup.sh")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
