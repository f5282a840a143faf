"""The source rules no compiler holds (tools/checksrc.py): no unbounded string functions, no
raw allocation outside the modules that own long-lived memory. The checker is run on the
tree, and on a file that breaks each rule, so a checker that sees nothing would fail here."""
import subprocess
import sys

from support import ROOT

CHECKSRC = ROOT / "tools" / "checksrc.py"


def run(*args):
    return subprocess.run([sys.executable, str(CHECKSRC), *map(str, args)], capture_output=True, text=True,
                          timeout=60)


def test_the_tree_keeps_the_rules():
    r = run()
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_checker_sees_each_breach(tmp_path):
    # A tree whose one file under src/ breaks every rule once, with the same calls inside
    # comments and strings, which are not code, and one call the line's comment allows.
    src = tmp_path / "src" / "domain" / "probe.c"
    src.parent.mkdir(parents=True)
    src.write_text('void f(char *d, const char *s) {\n'
                   '    sprintf(d, "%s", s);\n'
                   '    strcpy(d, s);\n'
                   '    int n = atoi(s);\n'
                   '    char *p = malloc(4);\n'
                   '    free(p);   /* checksrc: allow alloc — proven to be skipped */\n'
                   '    /* strcat(d, s) in a comment */ const char *t = "strtok(";\n'
                   '}\n')
    r = run("--root", tmp_path)
    assert r.returncode == 1
    rules = [line.split(": ")[1] + " " + line.split(": ")[2].split("(")[0] for line in r.stdout.splitlines()]
    assert rules == ["banned sprintf", "banned strcpy", "banned atoi", "alloc malloc"], r.stdout
