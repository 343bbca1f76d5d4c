"""`set qemu-threads signatures-file` in real gdb, on the QEMU 7.2-like fixture.

The file is read at every `set` (even to the same path) and again when it changed; a file
that cannot be used is one line at `set` (the setting keeps the file in use before) or at the
next `qemu-threads`, never an internal error, and the setting works on afterwards.
"""
from __future__ import annotations

import json

from cbuild import build
from gdbrun import json_command, run_gdb

ARGS = ["-accel", "tcg", "-smp", "2", "-name", "guest=fx,debug-threads=on"]


def sigs(detail, **changes):
    sig = {"id": "worker", "role": "qemu-other", "detail": detail, "names": ["^worker$"]}
    sig.update(changes)
    return json.dumps([sig])


def write_file(path, text, keep_stamp=False):
    """A gdb command that rewrites `path` in place; keep_stamp puts its mtime back, so that
    only a `set` can tell it changed."""
    code = "import os, pathlib; p = pathlib.Path(%r); st = os.stat(p); p.write_text(%r)" % (str(path), text)
    if keep_stamp:
        code += "; os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))"
    return "python " + code


def details_of_workers(doc):
    return sorted({(t["role"], t["detail"]) for t in doc["threads"] if t["name"] == "worker"})


def run_fixture(tmp_path, commands, variant="stripped"):
    return run_gdb(["run"] + commands, program=build("qemu72.c", variant), args=ARGS,
                   env={"FIXTURE_TRUTH": str(tmp_path / "truth.jsonl")}, timeout=180).check()


def errors_of(run):
    return [line for line in run.stderr.splitlines() if line.startswith("qemu-threads:")]


def test_file_is_read_at_every_set_and_when_it_changes(tmp_path):
    path = tmp_path / "sigs.json"
    first = sigs("A io={iothread} v={vcpu} a={accel_name} n={name} w={what}")
    path.write_text(first)
    run = run_fixture(tmp_path, [
        "set qemu-threads signatures-file %s" % path, *json_command("qemu-threads --json"),
        write_file(path, sigs("changed, longer")), *json_command("qemu-threads --json"),
        write_file(path, sigs("CHANGED, LONGER"), keep_stamp=True),
        *json_command("qemu-threads --json"),
        "set qemu-threads signatures-file %s" % path, *json_command("qemu-threads --json")])
    docs = run.json_docs()
    assert details_of_workers(docs[0]) == [("qemu-other", "A io= v=? a= n=worker w=worker")]
    assert details_of_workers(docs[1]) == [("qemu-other", "changed, longer")]
    # Same inode, size and mtime: nothing says it changed, until it is set again.
    assert details_of_workers(docs[2]) == [("qemu-other", "changed, longer")]
    assert details_of_workers(docs[3]) == [("qemu-other", "CHANGED, LONGER")]
    assert errors_of(run) == []


def test_bad_files_are_one_line_at_set_and_the_setting_works_on(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(sigs("mine"))
    bad = {
        "string-names": (sigs("x", names="^condw$"), "field 'names': must be a list of strings"),
        "catastrophic": (sigs("x", names=["^(a+)+$"]), "field 'names': item 1 '^(a+)+$': may backtrack"),
        "overflow": (sigs("x", names=["a{1,4294967295}"]), "repetition number is too large"),
        "nested": (sigs("x", names=["(" * 100000]), "field 'names': item 1"),
        "format-spec": (sigs("{name:>300000000}"), "field 'detail': placeholder {name}"),
        "positional": (sigs("{0}"), "field 'detail': unknown placeholder {0}"),
        "broken": (sigs("oops {"), "field 'detail': bad format"),
        "not-json": ("[{]", "cannot read signatures from"),
    }
    commands = ["set qemu-threads signatures-file %s" % good]
    for name, (content, _) in bad.items():
        path = tmp_path / ("%s.json" % name)
        path.write_text(content)
        commands += ["set qemu-threads signatures-file %s" % path]
    commands += ["set qemu-threads signatures-file /dev/zero",
                 "echo @@shown\\n", "show qemu-threads signatures-file",
                 *json_command("qemu-threads --json")]
    run = run_fixture(tmp_path, commands)
    errors = errors_of(run)
    assert len(errors) == len(bad) + 1
    for line, (name, (_, problem)) in zip(errors, bad.items()):
        assert "signatures file %s" % (tmp_path / ("%s.json" % name)) in line or \
            "cannot read signatures from %s" % (tmp_path / ("%s.json" % name)) in line
        assert problem in line, line
    assert "/dev/zero: larger than the limit of 1 MiB" in errors[-1]
    assert "internal error" not in run.output
    # Each refused file left the good one in place.
    assert str(good) in run.stdout.split("@@shown")[1]
    assert details_of_workers(run.json()) == [("qemu-other", "mine")]


def test_a_file_that_turns_bad_is_one_line_at_use_until_fixed(tmp_path):
    path = tmp_path / "sigs.json"
    path.write_text(sigs("good"))
    other = tmp_path / "other.json"
    other.write_text(sigs("other {iothread}", role="library", qemu=False))
    run = run_fixture(tmp_path, [
        "set qemu-threads signatures-file %s" % path,
        write_file(path, sigs("{nosuch}")), "qemu-threads", "qemu-threads --json",
        write_file(path, sigs("fixed")), *json_command("qemu-threads --json"),
        "set qemu-threads signatures-file %s" % other, *json_command("qemu-threads --json"),
        "set qemu-threads signatures-file", *json_command("qemu-threads --json")])
    errors = errors_of(run)
    assert len(errors) == 2
    assert all("signatures file %s: signature 1 (id 'worker'): field 'detail': unknown "
               "placeholder {nosuch}" % path in line for line in errors)
    fixed, other_doc, builtin = run.json_docs()
    assert details_of_workers(fixed) == [("qemu-other", "fixed")]
    assert details_of_workers(other_doc) == [("library", "other ")]
    assert details_of_workers(builtin) == [("worker", "thread-pool worker")]
