#!/usr/bin/env python3
"""Turns the public test suites of four reply parsers into cases for scripts/peer-eval/run.mjs.

Usage: python3 cases.py <dir>   (run.mjs calls it; <dir> holds talon/, zapier/, willdurand/, crisp/,
each a checkout of that project's repository). Prints JSON: a list of cases

  {suite, id, format: "plain"|"html", input, expected, compare: "space"|"nospace", source}

`expected` is null where only the peer library's own output says what the reply is (run.mjs fills
those in from crisp's library, see "source"). Standard library only: the peers' fixtures are read,
their test files parsed (talon with Python's ast, the PHP and JS tests with patterns for the few
assertion shapes they use), and zapier's own module imported to get its `parse_reply`.
"""

import ast
import email
import email.iterators
import json
import os
import re
import sys

ROOT = sys.argv[1]
cases = []


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8", errors="replace", newline="") as f:
        return f.read()


def add(suite, id_, input_, expected, source, fmt="plain", compare="space", checks=None):
    cases.append({"suite": suite, "id": id_, "format": fmt, "input": input_, "expected": expected,
                  "compare": compare, "source": source, "checks": checks})


# ---------------------------------------------------------------- talon --------------------------
# Every `eq_(expected, quotations.extract_from_plain|extract_from_html|extract_from(body))` of its
# quotation tests whose arguments are literal strings (or names bound to them / to its fixture
# files); HTML expectations compared without whitespace, as talon does. Tests that patch the
# library (`@patch.object(...)`, e.g. a one-line limit) test a setting, not the default: skipped.
# Plus its HTML reply files (every one must give "Hi. I am fine. Thanks, Alex") and its standard
# replies (the text/plain part; expected "Hello" or the *_reply_text file), as its tests do.

TALON_FIXTURES = {
    "REPLY_QUOTATIONS_SHARE_BLOCK": "tests/fixtures/reply-quotations-share-block.eml",
    "OLK_SRC_BODY_SECTION": "tests/fixtures/OLK_SRC_BODY_SECTION.html",
    "REPLY_SEPARATED_BY_HR": "tests/fixtures/reply-separated-by-hr.html",
}


def talon_str(node, env):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in env:
            return env[node.id]
        if node.id in TALON_FIXTURES:
            return read("talon", TALON_FIXTURES[node.id])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = talon_str(node.left, env), talon_str(node.right, env)
        if a is not None and b is not None:
            return a + b
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "sub" \
            and getattr(node.func.value, "id", "") == "RE_WHITESPACE" and len(node.args) == 2:
        s = talon_str(node.args[1], env)
        return None if s is None else re.sub(r"\s", "", s)
    # msg_body.replace('\n', '\r\n') (test_CRLF)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "replace" \
            and len(node.args) == 2 and not node.keywords:
        s, a, b = talon_str(node.func.value, env), talon_str(node.args[0], env), talon_str(node.args[1], env)
        if None not in (s, a, b):
            return s.replace(a, b)
    return None


def talon_call(node):
    """(function name, args, whitespace stripped) for quotations.extract_from_*(…) maybe inside RE_WHITESPACE.sub."""
    stripped = False
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "sub" \
            and getattr(node.func.value, "id", "") == "RE_WHITESPACE" and len(node.args) == 2:
        node, stripped = node.args[1], True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and getattr(node.func.value, "id", "") == "quotations" \
            and node.func.attr in ("extract_from_plain", "extract_from_html", "extract_from"):
        return node.func.attr, node.args, stripped
    return None


def talon_result(node, results):
    """talon_call's answer for a name bound to such a call, maybe inside RE_WHITESPACE.sub."""
    stripped = False
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "sub" \
            and getattr(node.func.value, "id", "") == "RE_WHITESPACE" and len(node.args) == 2:
        node, stripped = node.args[1], True
    if isinstance(node, ast.Name) and node.id in results:
        name, args = results[node.id]
        return name, args, stripped
    return None


def talon_tests(path):
    tree = ast.parse(read("talon", path))
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef) or not fn.name.startswith("test_"):
            continue
        if fn.decorator_list:
            continue
        env = {}
        # Names bound to a call ("extracted = quotations.extract_from_html(msg_body)", then
        # "eq_(expected, extracted)"): the call with its body as it was at that line.
        results = {}
        n = 0
        for stmt in fn.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                s = talon_str(stmt.value, env)
                if s is not None:
                    env[stmt.targets[0].id] = s
                call = talon_call(stmt.value)
                if call is not None:
                    name, args, _ = call
                    results[stmt.targets[0].id] = (name, [ast.Constant(talon_str(a, env)) for a in args])
                continue
            if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
                    and getattr(stmt.value.func, "id", "") == "eq_" and len(stmt.value.args) >= 2):
                continue
            expected_node, actual_node = stmt.value.args[0], stmt.value.args[1]
            call = talon_call(actual_node) or talon_result(actual_node, results)
            if call is None:
                expected_node, actual_node = actual_node, expected_node
                call = talon_call(actual_node) or talon_result(actual_node, results)
            if call is None:
                continue
            name, args, _stripped = call
            expected = talon_str(expected_node, env)
            body = talon_str(args[0], env) if args else None
            if expected is None or body is None:
                continue
            if name == "extract_from":
                ctype = talon_str(args[1], env) if len(args) > 1 else None
                if ctype not in ("text/plain", "text/html"):
                    continue
                fmt = "html" if ctype == "text/html" else "plain"
            else:
                fmt = "html" if name == "extract_from_html" else "plain"
            n += 1
            # An HTML expectation is markup: compared as its text, without whitespace (talon strips it).
            add("talon", f"{os.path.basename(path)}::{fn.name}" + (f"#{n}" if n > 1 else ""), body, expected,
                "test literal", fmt, "nospace" if fmt == "html" else "space")


def talon():
    for path in ("tests/text_quotations_test.py", "tests/html_quotations_test.py", "tests/quotations_test.py"):
        talon_tests(path)
    d = os.path.join(ROOT, "talon", "tests/fixtures/html_replies")
    for name in sorted(os.listdir(d)):
        add("talon", f"html_replies/{name}", read("talon", "tests/fixtures/html_replies", name),
            "Hi. I am fine.\n\nThanks,\nAlex", "test literal", "html", "nospace")
    d = os.path.join(ROOT, "talon", "tests/fixtures/standard_replies")
    for name in sorted(os.listdir(d)):
        if not name.endswith(".eml"):
            continue
        with open(os.path.join(d, name), encoding="utf-8", errors="replace") as f:
            message = email.message_from_file(f)
        part = next(email.iterators.typed_subpart_iterator(message, subtype="plain"))
        payload = part.get_payload(decode=True)
        text = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
        reply_file = os.path.join(d, name[:-4] + "_reply_text")
        expected = open(reply_file, encoding="utf-8").read().strip() if os.path.isfile(reply_file) else "Hello"
        add("talon", f"standard_replies/{name}", text, expected, "test literal")


# ---------------------------------------------------------------- zapier -------------------------
# Every fixture; its tests assert fragments' hidden flags, "in"/"not in" and a few exact replies,
# so the expected reply is its library's `parse_reply` (the visible fragments), which those tests
# pin down; an exact `assertEqual(…, parse_reply(…))` of a test is used as written.

def zapier():
    sys.path.insert(0, os.path.join(ROOT, "zapier"))
    from email_reply_parser import EmailReplyParser  # noqa: E402  (the peer's own module)
    tests = read("zapier", "test/test_email_reply_parser.py")
    literal = {}
    for m in re.finditer(r"open\('test/emails/([\w.]+)\.txt'\)[^\n]*\n\s+self\.assertEqual\(\s*'([^']*)'", tests):
        literal[m.group(1)] = m.group(2)
    for m in re.finditer(r"open\('test/emails/([\w.]+)\.txt'\)[^\n]*\n\s+self\.assertEqual\(\s*\"([^\"]*)\"", tests):
        literal[m.group(1)] = m.group(2)
    d = os.path.join(ROOT, "zapier", "test/emails")
    for name in sorted(os.listdir(d)):
        if not name.endswith(".txt"):
            continue
        text = read("zapier", "test/emails", name)
        key = name[:-4]
        if key in literal:
            add("zapier", key, text, literal[key], "test literal")
        else:
            add("zapier", key, text, EmailReplyParser.parse_reply(text), "library (zapier parse_reply)")


# ---------------------------------------------------------------- willdurand / crisp -------------
# Every fixture. The expected reply is the one a test names: COMMON_FIRST_FRAGMENT, or a literal
# visible text / parseReply / first fragment; willdurand's data providers (17 date and 4 "From:"
# header formats) one case each. Where no test gives the text, crisp's library output
# (getVisibleText) — run.mjs computes it from crisp's own code.

def php_string(s):
    """A PHP literal at the start of s: '…', "…" or a heredoc; returns (value, rest) or None."""
    s = s.lstrip()
    if s.startswith("'"):
        m = re.match(r"'((?:[^'\\]|\\.)*)'", s, re.S)
        return (m.group(1).replace("\\'", "'").replace("\\\\", "\\"), s[m.end():]) if m else None
    if s.startswith('"'):
        m = re.match(r'"((?:[^"\\]|\\.)*)"', s, re.S)
        if not m:
            return None
        v = m.group(1).replace("\\n", "\n").replace("\\t", "\t").replace('\\"', '"').replace("\\\\", "\\")
        return v, s[m.end():]
    m = re.match(r"<<<(\w+)\n(.*?)\n\1", s, re.S)
    if m:
        return m.group(2), s[m.end():]
    return None


def js_string(s):
    s = s.lstrip()
    m = re.match(r'"(?:[^"\\]|\\.)*"', s, re.S) or re.match(r"'(?:[^'\\]|\\.)*'", s, re.S)
    if not m:
        return None
    return ast.literal_eval(m.group(0)), s[m.end():]


def common_first(source, quote):
    m = re.search(r"COMMON_FIRST_FRAGMENT\s*=\s*", source)
    rest = source[m.end():]
    if quote == "php":
        return php_string(rest)[0]
    # JS: '…\n\' continued lines
    m = re.match(r"'((?:[^'\\]|\\.|\\\n)*)'", rest, re.S)
    return m.group(1).replace("\\n\\\n", "\n").replace("\\n", "\n")


# Kinds of expectation, strongest first: the visible text (getVisibleText / parseReply) as
# written; the first fragment as written (COMMON_FIRST_FRAGMENT or a literal); "one fragment" (the
# whole mail is the reply); the start of the second fragment (/^On/, /^-A/, /^--\nrick/, a literal
# fragment): the reply is what stands above the first line where it matches.
# When a test only says what the reply contains (/Key Points/ in the first fragment, 'Michael Scott'
# in it and 'Toby Flenderson' not), those checks are the expectation: CONTAINS.
VISIBLE, FIRST, WHOLE, BOUNDARY, CONTAINS = 0, 1, 2, 3, 4


def assertions(method, cff, parse):
    """(fixture, kind, value) for each assertion of a test method that says what the reply is."""
    out = []
    fixture = None
    token = re.compile(r"getFixtures\('([\w.]+?)\.txt'\)|get_email\(\"([\w.]+)\"\)|/fixtures/([\w.]+)\.txt\"|"
                       r"(assertEquals|test\.equal|assertMatchesRegularExpression|assertCount|assertStringContainsString|assertStringNotContainsString)\(")
    for m in token.finditer(method):
        if m.group(1) or m.group(2) or m.group(3):
            fixture = m.group(1) or m.group(2) or m.group(3)
            continue
        if fixture is None:
            continue
        args = method[m.end():]
        fn = m.group(4)
        if fn == "assertCount" or (fn == "test.equal" and re.match(r"\s*1\s*,\s*(\w+\.)?fragments\.length\)", args)):
            if re.match(r"\s*1\s*,", args):
                out.append((fixture, WHOLE, None))
            continue
        if fn == "test.equal":
            r = re.match(r"\s*true\s*,\s*/\^((?:[^/\\\n]|\\.)+)/\.test\(fragments\[1\]\)\)", args)
            if r:
                out.append((fixture, BOUNDARY, r.group(1)))
                continue
            r = re.match(r"\s*true\s*,\s*/((?:[^/\\\n]|\\.)+)/\.test\(fragments\[0\](\.toString\(\))?\)\)", args)
            if r:
                out.append((fixture, CONTAINS, {"re": r.group(1)}))
                continue
        if fn == "assertMatchesRegularExpression":
            r = re.match(r"\s*'/\^((?:[^/\\\n]|\\.)+)/'\s*,\s*\(string\) \$fragments\[1\]\)", args)
            if r:
                out.append((fixture, BOUNDARY, r.group(1)))
            r = re.match(r"\s*'/((?:[^/\\\n]|\\.)+)/'\s*,\s*\(string\) \$fragments\[0\]\)", args)
            if r:
                out.append((fixture, CONTAINS, {"re": r.group(1)}))
            continue
        if fn in ("assertStringContainsString", "assertStringNotContainsString"):
            r = re.match(r"\s*'([^']*)'\s*,\s*\$fragments\[0\]\)", args)
            if r:
                out.append((fixture, CONTAINS, {"re": re.sub(r"([.*+?^${}()|[\]\\/])", r"\\\1", r.group(1)),
                                                 "not": fn == "assertStringNotContainsString"}))
            continue
        if args.lstrip().startswith(("static::COMMON_FIRST_FRAGMENT", "COMMON_FIRST_FRAGMENT")):
            rest = args.split(",", 1)[1]
            if re.match(r"\s*(trim\(\$fragments\[0\]\)|fragments\[0\]\.toString\(\)\.trim\(\))", rest):
                out.append((fixture, FIRST, cff))
            elif re.match(r"\s*text\)", rest):
                out.append((fixture, VISIBLE, cff))
            continue
        lit = parse(args)
        if lit is None:
            continue
        value, rest = lit
        if re.match(r"\s*,\s*(\$email->getVisibleText\(\)|EmailReplyParser::parseReply\(\$body\)|email\.getVisibleText\(\)|reply\))", rest):
            out.append((fixture, VISIBLE, value))
        elif re.match(r"\s*,\s*(\(string\) \$fragments\[0\]|(\w+\.)?fragments\[0\](\.toString\(\))?\))", rest):
            out.append((fixture, FIRST, value))
        elif re.match(r"\s*,\s*(\(string\) \$fragments\[1\]|(\w+\.)?fragments\[1\](\.toString\(\))?\))", rest):
            # A literal second fragment: where its first three words start a line (a client may
            # have wrapped that line differently from the library's joined fragment).
            words = value.split()[:3]
            out.append((fixture, BOUNDARY, r"\s+".join(re.escape(w) for w in words)))
    # A first fragment followed by more visible ones (an inline answer: the content of fragments[2]
    # asserted, and not that it is hidden) is not the whole reply: that literal says only how the
    # reply starts.
    for k in set(re.findall(r"fragments\[([2-9])\]\)", method)):
        if not re.search(r"assertTrue\(\$fragments\[%s\]->isHidden\(\)\)" % k, method):
            out = [(f, kind, v) for f, kind, v in out if kind not in (FIRST, BOUNDARY)]
    return out


def above_boundary(text, pattern):
    """The text above the first line (after the first) where the second fragment's pattern matches."""
    text = text.replace("\r\n", "\n")
    rx = re.compile(pattern.replace("\\/", "/"))
    pos = text.find("\n") + 1
    while 0 < pos <= len(text):
        if rx.match(text, pos):
            return text[:pos].strip()
        nl = text.find("\n", pos)
        if nl < 0:
            break
        pos = nl + 1
    return None


def willdurand_like(suite, fixtures_dir, test_files, quote, inherited=None):
    sources = {f: read(suite, f) for f in test_files}
    cff = common_first(sources[test_files[0]], quote)
    parse = php_string if quote == "php" else js_string
    found = {}
    for src in sources.values():
        for method in re.split(r"\n\s*(?:public function|export function)\s+", src)[1:]:
            # Tests that configure the parser (their own regexes) still say what the reply is.
            for fixture, kind, value in assertions(method, cff, parse):
                found.setdefault(fixture, []).append((kind, value))
    main = sources[test_files[0]]
    dates = re.search(r"function getDateFormats\(\)(.*?)\n    \}", main, re.S)
    froms = re.search(r"function getFromHeaders\(\)(.*?)\n    \}", main, re.S)
    for name in sorted(os.listdir(os.path.join(ROOT, suite, fixtures_dir))):
        if not name.endswith(".txt"):
            continue
        key = name[:-4]
        text = read(suite, fixtures_dir, name)
        if key == "email_with_date_headers" and dates:
            for i, m in enumerate(re.finditer(r"array\((['\"])(.*?)\1\)", dates.group(1))):
                add(suite, f"{key}#{i + 1}", text.replace("[DATE]", m.group(2)), "Thank you very much.", "test literal")
            continue
        if key == "email_with_from_headers" and froms:
            # The test: the second fragment starts at the From line, so the reply is what is above it.
            for i, m in enumerate(re.finditer(r"array\((['\"])(.*?)\1\)", froms.group(1))):
                add(suite, f"{key}#{i + 1}", text.replace("[FROM]", m.group(2)), text.split("[FROM]")[0].strip(), "test (second fragment)")
            continue
        expected, source = None, "library (crisp getVisibleText)"
        ordered = sorted(found.get(key, []), key=lambda kv: kv[0])
        if ordered and ordered[0][0] == CONTAINS:
            add(suite, key, text, None, "test (contains)", checks=[v for k, v in ordered if k == CONTAINS])
            continue
        for kind, value in ordered:
            if kind == WHOLE:
                expected, source = text, "test (one fragment)"
            elif kind == BOUNDARY:
                expected, source = above_boundary(text, value), "test (second fragment)"
            else:
                expected, source = value, "test literal"
            if expected is not None:
                break
        if expected is None and inherited and inherited.get(text):
            # crisp took this fixture from willdurand unchanged and tests nothing about it:
            # willdurand's test of the same text says what the reply is.
            c = inherited[text]
            add(suite, key, text, c["expected"], c["source"] + " (willdurand's test)", checks=c["checks"])
            continue
        if expected is None:
            source = "library (crisp getVisibleText)"
        add(suite, key, text, expected, source)


def main():
    talon()
    zapier()
    willdurand_like("willdurand", "tests/Fixtures",
                    ["tests/EmailReplyParser/Tests/Parser/EmailParserTest.php", "tests/EmailReplyParser/Tests/EmailReplyParserTest.php"], "php")
    # willdurand's cases whose expectation comes from its tests, by fixture text.
    inherited = {c["input"]: c for c in cases if c["suite"] == "willdurand" and not c["source"].startswith("library") and "#" not in c["id"]}
    willdurand_like("crisp", "test/fixtures", ["test/test.js"], "js", inherited)
    json.dump(cases, sys.stdout, ensure_ascii=False)


main()
