"""A pygments lexer for gdb's backtrace text: `thread apply` headers and `#N ... in f () at x:y`."""
from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups
from pygments.token import Comment, Generic, Keyword, Name, Number, Operator, Punctuation, String, Text


class GdbBacktraceLexer(RegexLexer):
    """The lines `bt` and `thread apply all bt` print; anything else passes as plain text."""

    name = "gdb backtrace"
    aliases = ["gdb-backtrace"]

    tokens = {
        "root": [
            # Thread 3 (Thread 0x7f.. (LWP 123) "worker"):
            (r'(Thread)( \d+(?:\.\d+)?)( \()(.*?)(?:( ")(.*)("))?(\):?)$',
             bygroups(Generic.Heading, Number, Punctuation, Keyword, String, String, String, Punctuation)),
            (r"(#\d+)(\s+)", bygroups(Generic.Subheading, Text), "frame"),
            (r"(Backtrace stopped|Cannot access memory|Selected thread is running|\(More stack).*$",
             Generic.Error),
            (r".*\n", Text),
        ],
        "frame": [
            (r"(0x[0-9a-fA-F]+)( in )", bygroups(Number.Hex, Operator.Word)),
            (r"<[^>\n]*>", Comment.Special),          # <signal handler called>
            (r"[^\s(]+(?= \(|\s*$)", Name.Function),
            (r" \(", Punctuation, "args"),
            (r"( at )([^\n:]+)(:\d+)?", bygroups(Operator.Word, String, Number)),
            (r"( from )(\S+)", bygroups(Operator.Word, Name.Namespace)),
            (r"\n", Text, "#pop"),
            (r"\s+", Text),
            (r".", Text),
        ],
        "args": [
            (r"\)", Punctuation, "#pop"),
            (r"0x[0-9a-fA-F]+", Number.Hex),
            (r"<[^>\n]*>", Name.Variable),
            (r"\w+(?==)", Name.Attribute),
            (r'"(?:\\.|[^"\\\n])*"', String),
            (r"\(", Punctuation, "#push"),
            (r"\n", Text, "#pop:2"),
            (r"[^()<\n\"0]+|.", Text),
        ],
    }
