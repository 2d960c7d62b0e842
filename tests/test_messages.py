"""One language per person: every string a person reads comes from the catalogue, the
English catalogue translates every one, and a finding recorded in Chinese is told again in
English from its kept sentence, with only the data (names, codes, files) left as given."""

from __future__ import annotations

import ast
import itertools
import re
import string
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from jinja2 import Environment

from pipeline.model.messages import LOCALE_DIR, Say, catalogue, language_of, say
from pipeline.model.report import Finding
from pipeline.validate.rules import validate
from tests.conftest import REPO
from tests.test_validate import CODE, NAME, doc, packet, record, seal

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
"""Chinese characters and Chinese punctuation (full-width forms included)."""
TEMPLATES = REPO / "pipeline" / "web" / "templates"
EN_PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "sealdesk.po"


def extracted() -> dict[Any, set[str]]:
    """Every source string of the code and templates (as ``make messages`` finds them),
    keyed as the catalogue keys them: msgid, or (context, msgid)."""
    found: dict[Any, set[str]] = {}
    method_map = [
        ("pipeline/web/templates/**.html", "jinja2"),
        ("pipeline/**.py", "python"),
        ("sealdesk/**.py", "python"),
    ]
    keywords = {
        "_": None,
        "N_": None,
        "say": None,
        "pgettext": ((1, "c"), 2),
        "NP_": ((1, "c"), 2),
    }
    for filename, _line, message, _comments, context in extract_from_dir(
        str(REPO), method_map, keywords=keywords
    ):
        key = (context, message) if context else message
        found.setdefault(key, set()).add(filename)
    return found


def places(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_english_catalogue_translates_every_string_with_its_places() -> None:
    with EN_PO.open("rb") as source:
        po = read_po(source)
    entries = {(m.context, m.id) if m.context else m.id: m for m in po if m.id}
    wanted = extracted()
    assert len(wanted) > 300  # the extraction found the product's strings, not nothing
    untranslated = sorted(str(k) for k in wanted if not (k in entries and entries[k].string))
    assert not untranslated, "run `make messages` and translate: " + "; ".join(untranslated[:10])
    fuzzy = sorted(str(k) for k, m in entries.items() if m.fuzzy)
    assert not fuzzy, fuzzy
    left_over = sorted(str(k) for k in entries if k not in wanted)
    assert not left_over, "strings no longer in the code (`make messages`): " + str(left_over)
    for key, entry in entries.items():
        assert places(entry.id) == places(entry.string), key
        assert not CJK.search(entry.string), key  # English, all of it


def _template_strings_outside_the_catalogue(source: str) -> list[str]:
    """Chinese in a template that does not go through ``_`` or ``pgettext``: raw text, or
    a string literal that is no such call's argument."""
    env = Environment()
    tokens = [t for t in env.lex(source) if t[1] not in ("whitespace",)]
    wrong = []
    for i, (_line, kind, value) in enumerate(tokens):
        if kind == "data" and CJK.search(value):
            wrong.append(value.strip())
        elif kind == "string" and CJK.search(value):
            before = [t[2] for t in tokens[max(0, i - 4) : i]]
            in_underscore = before[-2:] == ["_", "("]
            in_pgettext = len(before) == 4 and before[:2] == ["pgettext", "("] and before[3] == ","
            if not (in_underscore or in_pgettext):
                wrong.append(value.strip("'\""))
    return wrong


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_no_template_shows_chinese_outside_the_catalogue(template: str) -> None:
    source = (TEMPLATES / template).read_text(encoding="utf-8")
    assert _template_strings_outside_the_catalogue(source) == []


def test_the_template_check_catches_raw_text_and_bare_literals() -> None:
    assert _template_strings_outside_the_catalogue("<p>没有发现问题。</p>") == [
        "<p>没有发现问题。</p>"
    ]
    assert _template_strings_outside_the_catalogue("{{ '核验' if x else '复核' }}") == [
        "核验",
        "复核",
    ]
    assert _template_strings_outside_the_catalogue("{{ _('核验') }}") == []


TRANSLATING_CALLS = {"_", "N_", "NP_", "say", "pgettext"}


def _python_strings_outside_the_catalogue(source: str) -> list[str]:
    """Chinese string literals (not docstrings) that are no argument of ``_``, ``N_``,
    ``say`` or a translator called on the spot (``words(request)("…")``)."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    documented = set()  # the string under a name, which documents the name
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for a, b in itertools.pairwise(body):
                if isinstance(a, ast.Assign | ast.AnnAssign) and isinstance(b, ast.Expr):
                    documented.add(id(b.value))
    translated = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in TRANSLATING_CALLS or isinstance(func, ast.Call):
                translated.update(id(a) for a in node.args)
    in_f_strings = {
        id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values
    }
    wrong = []
    for node in ast.walk(tree):
        if id(node) in in_f_strings:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if CJK.search(node.value) and id(node) not in docstrings | documented | translated:
                wrong.append(node.value)
        elif isinstance(node, ast.JoinedStr) and any(
            isinstance(v, ast.Constant) and CJK.search(str(v.value)) for v in node.values
        ):
            wrong.append(ast.unparse(node))
    return wrong


WEB = sorted(p.name for p in (REPO / "pipeline" / "web").glob("*.py"))


@pytest.mark.parametrize("module", WEB)
def test_no_web_module_says_chinese_outside_the_catalogue(module: str) -> None:
    source = (REPO / "pipeline" / "web" / module).read_text(encoding="utf-8")
    assert _python_strings_outside_the_catalogue(source) == []


def test_the_python_check_catches_a_bare_sentence_and_an_f_string() -> None:
    found = _python_strings_outside_the_catalogue('x = "已记录"\ny = f"第 {n} 项"\nz = _("好")\n')
    assert found == ["已记录", "f'第 {n} 项'"]


def test_the_reader_s_language_comes_from_their_choice_then_their_browser() -> None:
    assert language_of(None, None) == "zh_CN"
    assert language_of("en", "zh-CN,zh;q=0.9") == "en"
    assert language_of(None, "de-DE,en-GB;q=0.8,zh;q=0.5") == "en"
    assert language_of(None, "fr, zh-TW;q=0.9") == "zh_CN"
    assert language_of("xx", "en;q=0") == "zh_CN"  # q=0 means "not this one"


def test_a_sentence_keeps_its_parts_and_is_told_in_either_language() -> None:
    place = say("{kind}（{source} 第 {page} 页）", kind=say("营业执照"), source="a.pdf", page=2)
    sentence = say("{place}的营业期限至 {until}，已届满。", place=place, until="2020-01-01")
    again = Say.from_json(sentence.to_json())
    assert again == sentence
    assert again.told() == "营业执照（a.pdf 第 2 页）的营业期限至 2020-01-01，已届满。"
    assert again.told("en") == (
        "The term of operation on Business licence (a.pdf, page 2) ran until 2020-01-01 and "
        "has ended."
    )
    assert catalogue("en").gettext("没有这样的句子") == "没有这样的句子"  # unknown: as given


def _data(sentence: Say) -> list[str]:
    """The values a sentence carries (names, codes, files), not its words."""
    values: list[str] = []
    for value in sentence.args.values():
        values.extend(_data(value) if isinstance(value, Say) else [str(value)])
    return values


def _defective_packet() -> tuple[Any, list[Any]]:
    """A packet wrong in many ways at once, so most rules speak."""
    documents = packet()
    form, licence, card = documents
    form = doc(
        "application_form",
        {"application_id": "CQC-2026-000999", "company_name": NAME, "signature_present": False},
        (seal("北京示例信息科技有限公司"),),
        company_name={"confidence": 0.99},
    )
    licence = doc(
        "business_licence",
        {"company_name": "北京别的公司", "uscc": CODE[:-1] + "0", "operating_period": "2010/2020"},
        (seal("北京市海淀区市场监督管理局", "authority"),),
        company_name={"confidence": 0.99},
        uscc={"confidence": 0.99, "guessed": False},
    )
    card = doc(
        "id_card_copy",
        {"name": "李四", "id_number": "110101199003071230", "valid_to": "2020-01-01"},
        (seal(),),
        name={"confidence": 0.99},
    )
    agent = {"name": "王五", "id_number": "110101198506121230"}
    changed = record(
        agent=agent,
        payment={"payer_name": "个人", "amount_cny": 5},
        company={"name": NAME, "uscc": "91110108MA01ABCD2Z"},
    )
    return changed, [form, licence, card]


def test_every_finding_of_a_defective_packet_is_told_in_english_but_its_data() -> None:
    from datetime import date

    application, documents = _defective_packet()
    findings: list[Finding] = validate(application, documents, date(2026, 11, 21))
    assert len({f.code for f in findings}) >= 8  # many rules spoke
    for finding in findings:
        assert finding.wording is not None, finding.code
        assert finding.wording.told() == finding.message  # the contract's Chinese sentence
        english = finding.wording.told("en")
        for value in sorted(_data(finding.wording), key=len, reverse=True):
            english = english.replace(value, "")
        assert not CJK.search(english), (finding.code, finding.wording.told("en"))
        assert Say.from_json(finding.to_json()["wording"]) == finding.wording


def test_a_finding_kept_before_sentences_were_kept_shows_nothing_mixed() -> None:
    from pipeline.web.site import told

    old = {"code": "name_mismatch", "message": "名称不一致", "evidence": {}}
    assert told(old, "zh_CN") == "名称不一致"
    assert told(old, "en") == ""  # its title and evidence still show, in English


def test_the_catalogue_is_read_from_the_po_file_as_it_stands() -> None:
    """No compiled file to go stale: a translation changed in the .po is what is told."""
    with EN_PO.open("rb") as source:
        po = read_po(source)
    assert po.get("退回申请人").string == catalogue("en").gettext("退回申请人")


def test_where_a_read_differs_is_said_in_english_too() -> None:
    from pipeline.review.wording import plain_difference

    assert (
        plain_difference("北京远航科技", "北京通远科技", "en")
        == "characters 3, 4 differ (远航 ↔ 通远)"
    )
    assert plain_difference("北京远航科技", "北京航科技", "en") == "character 3 missing (“远”)"
    assert plain_difference("北京远航科技", None, "en") == "could not be read"
