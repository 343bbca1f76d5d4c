"""A user's signatures file is untrusted data: every bad input is one line naming the file,
the signature and the field, at load; nothing in a loaded file can fail or hang later."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdb_qemu_threads.analyze.classify import classify
from gdb_qemu_threads.model import Frame, ThreadSnapshot
from gdb_qemu_threads.signature_file import SIZE_LIMIT, SignatureFileError, load_user_signatures, make_table
from gdb_qemu_threads.signature_patterns import FILE_BUDGET, TEXT_LIMIT, PatternError, compile_pattern
from gdb_qemu_threads.signatures import BUILTIN, DEFAULT_TABLE

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"id": "mine", "role": "qemu-other", "detail": "my thread", "names": ["^mine$"]}


def entry(**changes):
    sig = dict(GOOD, **changes)
    return {k: v for k, v in sig.items() if v is not _DROP}


_DROP = object()

# (what the file holds, the field the message must name, what else it must say)
CATALOGUE = [
    ([entry(names="^condw$")], "'names'", "must be a list of strings, not a string"),
    ([entry(entries="worker_thread")], "'entries'", "must be a list of strings"),
    ([entry(frames={"a": 1})], "'frames'", "not an object"),
    ([entry(libraries=[1])], "'libraries'", "item 1 must be a string, not a number"),
    ([entry(after_anon=["ok", None])], "'after_anon'", "item 2 must be a string, not null"),
    ([entry(names=[""])], "'names'", "item 1 is empty"),
    ([entry(id=7)], "'id'", "must be a string, not a number"),
    ([entry(id="")], "'id'", "must not be empty"),
    ([entry(id=_DROP)], "'id'", "must be a string, not missing"),
    ([entry(role=["vcpu"])], "'role'", "must be a string, not a list"),
    ([entry(role="nope")], "'role'", "unknown role 'nope'"),
    ([entry(detail=None)], "'detail'", "must be a string, not null"),
    ([entry(accel="warp")], "'accel'", "unknown accelerator 'warp'"),
    ([entry(accel=1)], "'accel'", "must be a string or null"),
    ([entry(qemu="yes")], "'qemu'", "must be true or false, not a string"),
    ([entry(versions=3)], "'versions'", "must be a string"),
    ([entry(detail="{nosuch}")], "'detail'", "unknown placeholder {nosuch}"),
    ([entry(detail="{0}")], "'detail'", "unknown placeholder {0}"),
    ([entry(detail="{}")], "'detail'", "unknown placeholder {}"),
    ([entry(detail="{name.__class__}")], "'detail'", "unknown placeholder {name.__class__}"),
    ([entry(detail="{name[0]}")], "'detail'", "unknown placeholder {name[0]}"),
    ([entry(detail="{name:>300000000}")], "'detail'", "may not have a format spec"),
    ([entry(detail="{name!r}")], "'detail'", "may not have a format spec or conversion"),
    ([entry(detail="oops {")], "'detail'", "bad format"),
    ([entry(detail="oops }")], "'detail'", "bad format"),
    ([entry(detail="x" * 1001)], "'detail'", "longer than 1000 characters"),
    ([entry(names=["a{1,4294967295}"])], "'names'", "repetition number is too large"),
    ([entry(names=["(" * 100000])], "'names'", "longer than"),
    ([entry(names=["[" * 400])], "'names'", "bad regular expression"),
    ([entry(names=["(" * 200 + ")" * 200 + "("])], "'names'", "bad regular expression"),
    ([entry(names=["^(a+)+$"])], "'names'", "may backtrack for too long"),
    ([entry(libraries=["(x|x)*y"])], "'libraries'", "may backtrack for too long"),
    ([entry(names=[r"(a)\1"])], "'names'", "back-references are not supported"),
    ([entry(names=["ok", "("])], "'names'", "item 2 '('"),
    ([entry(colour=1)], "'colour'", "unknown key"),
    ([entry(user=False)], "'user'", "unknown key"),
]


def write(tmp_path, content) -> Path:
    path = tmp_path / "sigs.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def load_error(path) -> str:
    with pytest.raises(SignatureFileError) as err:
        load_user_signatures(str(path))
    message = str(err.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("content,field,problem", CATALOGUE,
                         ids=["%d-%s" % (i, c[1].strip("'")) for i, c in enumerate(CATALOGUE)])
def test_bad_signature_is_one_line_naming_file_signature_and_field(tmp_path, content, field, problem):
    # The bad entry comes second, after a good one, so the message must count it right.
    content = [entry(id="fine", names=["^fine$"])] + content
    path = write(tmp_path, content)
    message = load_error(path)
    bad_id = content[1].get("id")
    entry_name = "signature 2 (id '%s')" % bad_id if isinstance(bad_id, str) else "signature 2:"
    assert message.startswith("signatures file %s: " % path)
    assert entry_name in message and ("field %s" % field in message or "key(s) %s" % field in message)
    assert problem in message


@pytest.mark.parametrize("content,problem", [
    ("{", "cannot read signatures from"),
    ("", "cannot read signatures from"),
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ("{}", "expected a JSON list of signatures, not an object"),
    ('"names"', "expected a JSON list of signatures, not a string"),
    ("[1]", "signature 1: expected an object, not a number"),
    ("[" + "9" * 5000 + "]", "cannot read signatures from"),
])
def test_bad_file_is_one_line_naming_the_file(tmp_path, content, problem):
    path = write(tmp_path, content)
    message = load_error(path)
    assert str(path) in message and problem in message


def test_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "sigs.json"
    path.write_bytes(b'[{"id": "\xff"}]')
    assert "not UTF-8 text (byte 9)" in load_error(path)


def test_missing_file_and_directory(tmp_path):
    assert "No such file or directory" in load_error(tmp_path / "nope.json")
    assert "Is a directory" in load_error(tmp_path)


def test_size_is_limited_even_for_an_endless_file(tmp_path):
    big = tmp_path / "big.json"
    big.write_text("[" + " " * SIZE_LIMIT + "]")
    assert "larger than the limit of 1 MiB" in load_error(big)
    assert "larger than the limit" in load_error("/dev/zero")


def test_just_under_the_size_limit_loads(tmp_path):
    text = json.dumps([GOOD])
    path = write(tmp_path, text + " " * (SIZE_LIMIT - len(text)))
    assert [s.id for s in load_user_signatures(str(path))] == ["mine"]


def test_id_and_path_are_shown_on_one_line(tmp_path):
    path = write(tmp_path, [entry(id="two\nlines" + "x" * 100, role="nope")])
    message = load_error(path)
    assert "two\\nlines" in message and "..." in message


def test_good_file_loads_with_every_field(tmp_path):
    path = write(tmp_path, [{"id": "mine", "role": "vcpu", "detail": "vCPU {vcpu} on {accel_name}",
                             "accel": "kvm", "entries": ["my_vcpu_fn"], "frames": ["my_exec"],
                             "names": [r"^MY (?P<vcpu>\d+)$"], "libraries": [r"^libmine\.so"],
                             "after_anon": ["my_wait"], "versions": "local", "qemu": True},
                            {"id": "other", "role": "library", "detail": "x", "accel": None}])
    mine, other = load_user_signatures(str(path))
    assert mine.user and mine.names == (r"^MY (?P<vcpu>\d+)$",) and mine.accel == "kvm"
    assert other.accel is None and other.entries == () and other.qemu is True


def snapshot(num, frames, name=None):
    return ThreadSnapshot(num=num, lwp=100 + num, name=name,
                          frames=[Frame(fn, pc=0x1000 + i) for i, fn in enumerate(frames)])


def test_every_placeholder_works_in_every_role(tmp_path):
    """{iothread} on a role that is not an iothread, {vcpu} on one that is not a vCPU, ..."""
    detail = "v={vcpu} a={accel_name} io={iothread} n={name} w={what} {{braces}}"
    path = write(tmp_path, [
        {"id": "odd-pool", "role": "worker", "detail": detail, "names": ["^odd$"]},
        {"id": "odd-vcpu", "role": "vcpu", "detail": detail, "accel": "kvm",
         "names": [r"^ODD (?P<vcpu>\d+)$"]},
        {"id": "odd-io", "role": "iothread", "detail": detail, "names": ["^ODDIO (?P<iothread>.+)$"]},
    ])
    table = make_table([str(path)])
    reports = classify([snapshot(1, ["main_loop_wait", "main"], "qemu-system-x86"),
                        snapshot(2, ["poll", "start_thread"], "odd"),
                        snapshot(3, ["ioctl", "start_thread"], "ODD 3"),
                        snapshot(4, ["ppoll", "start_thread"], "ODDIO disk0")], table)
    details = [r.verdict.detail for r in reports[1:]]
    assert details == ["v=? a= io= n=odd w=odd {braces}",
                       "v=3 a=KVM io= n=ODD 3 w=ODD 3 {braces}",
                       "v=? a= io=disk0 n=ODDIO disk0 w=ODDIO disk0 {braces}"]


def test_a_vcpu_group_that_is_not_a_number_is_ignored(tmp_path):
    path = write(tmp_path, [{"id": "odd-vcpu", "role": "vcpu", "detail": "vCPU {vcpu}",
                             "names": [r"^ODD (?P<vcpu>\w*)$"]}])
    reports = classify([snapshot(1, ["main_loop_wait", "main"], "qemu-system-x86"),
                        snapshot(2, ["ioctl"], "ODD x"), snapshot(3, ["ioctl"], "ODD ")],
                       make_table([str(path)]))
    assert [r.verdict.role for r in reports[1:]] == ["vcpu", "vcpu"]
    # No index from the names, so the vCPUs are numbered by creation order (a guess).
    assert [(r.verdict.vcpu, r.verdict.confidence) for r in reports[1:]] == [(0, "low"), (1, "low")]


def test_user_patterns_see_only_short_texts_builtin_ones_see_all(tmp_path):
    path = write(tmp_path, [{"id": "long", "role": "worker", "detail": "long", "names": ["^L+$"],
                             "libraries": ["^libL+\\.so$"]}])
    table = make_table([str(path)])
    assert table.by_name("L" * TEXT_LIMIT)[0].id == "long"
    assert table.by_name("L" * (TEXT_LIMIT + 1)) is None
    assert table.by_library("/usr/lib/libL.so").id == "long"
    assert table.by_library("/lib/lib" + "L" * TEXT_LIMIT + ".so") is None
    long_iothread = "IO " + "x" * 200
    assert table.by_name(long_iothread)[0].id == "iothread"


def test_builtin_table_is_unchanged_and_its_patterns_would_pass_the_user_checks():
    assert make_table([]).signatures == DEFAULT_TABLE.signatures == list(BUILTIN)
    for sig in BUILTIN:
        for rx in sig.names:
            compile_pattern(rx, searched=False)
        for rx in sig.libraries:
            compile_pattern(rx, searched=True)


@pytest.mark.parametrize("pattern", [
    "^(a+)+$", "(a*)*b", "(a|a)*b", "(a|aa)+$", r"(\w+\s?)+$", "(.*a){20}", ".*.*.*.*x",
    "^(a|b|ab)*$", "(?:a+){2,}", "((a+)b?)+c", "(?=(a+)+$)", "(?!(a|a)*c)b",
])
def test_catastrophic_patterns_are_refused(pattern):
    with pytest.raises(PatternError) as err:
        compile_pattern(pattern, searched=False)
    assert "may backtrack for too long" in str(err.value)


@pytest.mark.parametrize("pattern", [
    r"^CPU (?P<vcpu>\d+)/KVM$", "^(fault|listen)$", "^(de)?compress$", "^a*b*c$", "(ab)+",
    "^(?:a|b)+$", r"^[\w.-]{1,15}$", "^(?>a+)b", "x{1000}",
])
def test_ordinary_patterns_are_accepted(pattern):
    assert compile_pattern(pattern, searched=False).regex.pattern == pattern


def test_a_search_costs_like_a_match_only_when_anchored():
    assert compile_pattern(r"^lib.*\.so.*$", searched=True)
    assert compile_pattern(r"\Alib.*\.so.*$", searched=True)
    for unanchored in (r"lib.*\.so.*$", r"(?m)^lib.*\.so.*$"):
        with pytest.raises(PatternError):
            compile_pattern(unanchored, searched=True)
        assert compile_pattern(unanchored, searched=False)


# Near the budget: names are matched at their start, library basenames at every position.
def test_the_patterns_of_a_file_have_a_budget_together(tmp_path):
    """Every pattern is tried on every new name: a file of many slow ones is refused too."""
    slow = r"^(?:a|a){0,15}c"   # 2^16 - 1 ways: under the budget of one pattern
    cost = compile_pattern(slow, searched=False).cost
    fits = FILE_BUDGET // cost
    path = write(tmp_path, [entry(id="s%d" % i, names=[slow]) for i in range(fits)])
    assert len(load_user_signatures(str(path))) == fits
    path = write(tmp_path, [entry(id="s%d" % i, names=[slow]) for i in range(fits + 1)])
    message = load_error(path)
    assert "signature %d (id 's%d'): field 'names': the file's patterns together" % (fits + 1, fits) \
        in message


SLOWEST_NAMES = [r"^(?:a|a){0,15}c", r"^(?:a|a|a){0,10}c", r"^(?:(?:a|a){0,7}){2}c", "a*a*b"]
SLOWEST_LIBRARIES = [r"(?:a|a){0,9}c", r"(?:a|a|a){0,6}c", "a*[ab]{0,20}c", r"^(?:a|a){0,15}c"]


def test_the_slowest_accepted_patterns_finish_on_adversarial_names(tmp_path):
    """In a child process with a timeout, so a regression fails instead of hanging the tests."""
    path = write(tmp_path, [{"id": "slow%d" % i, "role": "worker", "detail": "slow",
                             "names": [name], "libraries": [library]}
                            for i, (name, library) in enumerate(zip(SLOWEST_NAMES, SLOWEST_LIBRARIES))])
    script = ("import sys\n"
              "from gdb_qemu_threads.signature_file import make_table\n"
              "table = make_table([sys.argv[1]])\n"
              "for n in range(1, %d):\n"
              "    for text in ('a' * n, 'ab' * (n // 2)):\n"
              "        table.by_name(text); table.by_library('/lib/' + text)\n"
              "print('done')\n" % (TEXT_LIMIT + 2))
    done = subprocess.run([sys.executable, "-c", script, str(path)], cwd=str(ROOT),
                          stdout=subprocess.PIPE, text=True, timeout=60)
    assert done.stdout.strip() == "done"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab()[]{}|*+?^$\\.:,!=<>0123456789PdwsS-", max_size=40))
def test_any_pattern_compiles_or_is_refused_in_one_line(pattern):
    try:
        compiled = compile_pattern(pattern, searched=True)
    except PatternError as err:
        assert "\n" not in str(err)
    else:
        compiled.regex.search("a" * TEXT_LIMIT)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="{}!:>0rnamevcpuiothread._[]x ", max_size=30))
def test_any_detail_is_checked_at_load_or_formats_later(detail):
    from gdb_qemu_threads.analyze.classify import detail_fields
    from gdb_qemu_threads.signature_file import check_detail
    try:
        check_detail(detail)
    except ValueError as err:
        assert "\n" not in str(err) and "field 'detail'" in str(err)
    else:
        text = detail.format_map(detail_fields(None, None, None, "n", "w"))
        assert len(text) <= len(detail) * 2 + 10


# -- the offline command line: python -m gdb_qemu_threads DUMP --signatures FILE --------------

DUMP = ROOT / "tests" / "data" / "qemu72-tcg-named-bt.txt"


def offline(*args):
    return subprocess.run([sys.executable, "-m", "gdb_qemu_threads"] + [str(a) for a in args],
                          cwd=str(ROOT), capture_output=True, text=True, timeout=120)


def test_offline_user_signature_with_iothread_and_vcpu_placeholders(tmp_path):
    path = write(tmp_path, [
        {"id": "worker", "role": "qemu-other", "detail": "pool io={iothread} v={vcpu} n={name}",
         "names": ["^worker$"]},
        {"id": "vnc-worker", "role": "vnc-worker", "detail": "{what} / {accel_name} / {vcpu}",
         "names": ["^vnc_worker$"]}])
    run = offline(DUMP, "--json", "--signatures", path)
    assert run.returncode == 0 and run.stderr == ""
    threads = {t["name"]: t for t in json.loads(run.stdout)["threads"]}
    assert (threads["worker"]["role"], threads["worker"]["detail"]) == \
        ("qemu-other", "pool io= v=? n=worker")
    assert threads["vnc_worker"]["detail"] == "vnc_worker /  / ?"
    assert threads["CPU 1/TCG"]["detail"] == "vCPU 1 (TCG)"  # built-ins as before


def test_offline_catastrophic_pattern_is_refused_before_any_matching(tmp_path):
    path = write(tmp_path, [entry(names=["^(a+)+$"])])
    run = offline(DUMP, "--signatures", path)
    lines = run.stderr.splitlines()
    assert run.returncode == 2 and run.stdout == "" and len(lines) == 1
    assert str(path) in lines[0] and "signature 1 (id 'mine')" in lines[0]
    assert "field 'names'" in lines[0] and "may backtrack" in lines[0]


@pytest.mark.parametrize("content,problem", [
    ([entry(names="^condw$")], "field 'names': must be a list of strings"),
    ([entry(detail="{name:>300000000}")], "may not have a format spec"),
    ([entry(detail="{nosuch}")], "unknown placeholder {nosuch}"),
    ([entry(names=["a{1,4294967295}"])], "repetition number is too large"),
    ("[{]", "cannot read signatures from"),
])
def test_offline_bad_file_is_one_line_and_exit_2(tmp_path, content, problem):
    path = write(tmp_path, content)
    run = offline(DUMP, "--signatures", path)
    assert run.returncode == 2 and run.stdout == ""
    assert len(run.stderr.splitlines()) == 1 and "Traceback" not in run.stderr
    assert str(path) in run.stderr and problem in run.stderr


def test_offline_endless_signatures_file_ends():
    run = offline(DUMP, "--signatures", "/dev/zero")
    assert run.returncode == 2 and "larger than the limit of 1 MiB" in run.stderr
