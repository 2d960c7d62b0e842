"""The checks the seeds demand, from an application record and the documents read from
its files. Each rule looks at one thing and says what it saw as findings with evidence;
:func:`validate` runs them all. No OCR here: the documents come in already read.

Severity: ``error`` for a confident difference (the application cannot be approved as it
stands), ``warning`` whenever the machine is not sure (a person must look), ``info`` for
what was noticed and settled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from stdnum.cn import uscc

from pipeline.extract.codes import TO_USCC, check_id_number
from pipeline.model.application import ApplicationRecord
from pipeline.model.messages import N_, NOTHING, Say, say
from pipeline.model.names import (
    Judgement,
    fits_where_clear,
    fold,
    judge,
    open_to_a_twin,
    same,
)
from pipeline.model.report import Code, DocumentEntry, Finding, Severity

LOOK_ALIKE_TO_USCC = str.maketrans(TO_USCC)
"""Letters a credit code never holds, to the character OCR takes them for."""
FEE_PER_KEY_CNY = 1000
"""The first year's fee for one key (the seeds: 1000 元/年)."""
STAMPED_KINDS = (
    "application_form",
    "confirmation_letter",
    "business_licence",
    "org_code_certificate",
    "id_card_copy",
    "authorization_letter",
)
"""Copies the seeds say must bear the company seal (a foreign registration proof may be
signed by the legal representative instead, so it is not held to a seal)."""
NAMED_KINDS = {
    "application_form": "company_name",
    "business_licence": "company_name",
    "confirmation_letter": "company_name",
    "org_code_certificate": "company_name",
    "foreign_registration": "company_name",
    "authorization_letter": "principal",
}
"""Where each kind of document names the company."""
KIND_NAMES = {
    "application_form": N_("申请表"),
    "confirmation_letter": N_("确认函"),
    "business_licence": N_("营业执照"),
    "org_code_certificate": N_("组织机构代码证"),
    "id_card_copy": N_("身份证复印件"),
    "authorization_letter": N_("授权委托书"),
    "foreign_registration": N_("境外注册证明"),
}


@dataclass(frozen=True)
class Case:
    """What the rules look at: the record, the documents read, and the day."""

    record: ApplicationRecord
    documents: tuple[DocumentEntry, ...]
    today: date

    @property
    def company(self) -> str:
        return self.record.company_name

    @property
    def foreign(self) -> bool:
        return self.record.foreign

    @property
    def agent(self) -> dict[str, Any] | None:
        return self.record.agent

    def of_kind(self, kind: str) -> Iterator[tuple[int, DocumentEntry]]:
        return ((i, d) for i, d in enumerate(self.documents) if d.kind == kind)


Rule = Callable[[Case], Iterator[Finding]]


def _note(document: DocumentEntry, name: str) -> dict[str, Any]:
    note = document.field_notes.get(name)
    return note if isinstance(note, dict) else {}


def _where(document: DocumentEntry) -> Say:
    return say(
        "{kind}（{source} 第 {page} 页）",
        kind=say(KIND_NAMES.get(document.kind, document.kind)),
        source=document.source,
        page=document.page,
    )


def _finding(
    code: Code,
    severity: Severity,
    message: Say,
    index: int | None,
    document: DocumentEntry | None,
    **evidence: Any,
) -> Finding:
    """A finding whose message is told in the default language and kept as a sentence
    (``wording``) to be told in another."""
    return Finding.told(
        code,
        severity,
        message,
        document=index,
        page=document.page if document is not None else None,
        evidence=evidence,
    )


# --- documents present ---------------------------------------------------------------


def required_kinds(case: Case) -> list[str]:
    """The documents this application needs (the seeds' lists, by scheme, case and agent)."""
    kinds = ["application_form"]
    if case.record.scheme == "mofcom":
        kinds.append("confirmation_letter")
    kinds.append("foreign_registration" if case.foreign else "business_licence")
    kinds.append("id_card_copy")
    if case.agent is not None:
        kinds.append("authorization_letter")
    return kinds


def documents_present(case: Case) -> Iterator[Finding]:
    found = {d.kind for d in case.documents}
    for kind in required_kinds(case):
        if kind not in found:
            yield _finding(
                Code.DOCUMENT_MISSING,
                Severity.ERROR,
                say("缺少{kind}。请申请人补交。", kind=say(KIND_NAMES[kind])),
                None,
                None,
                kind=kind,
            )
    if case.agent is not None and "id_card_copy" in found:
        # with an agent, two people's cards: each must be there (by name or by number)
        cards = [d for _, d in case.of_kind("id_card_copy")]
        for role, person, who in (
            ("agent", case.agent, N_("经办人（代理人）")),
            ("contact", case.record.contact, N_("联系人")),
        ):
            if any(_card_of(card, person) for card in cards):
                continue
            yield _finding(
                Code.DOCUMENT_MISSING,
                Severity.ERROR,
                say("缺少{who}{name}的身份证复印件。", who=say(who), name=person["name"]),
                None,
                None,
                kind="id_card_copy",
                person=role,
                expected=person["name"],
                found=[c.fields.get("name") for c in cards if c.fields.get("name")],
            )


def _card_of(card: DocumentEntry, person: dict[str, Any]) -> bool:
    """Whether an ID card copy is this person's: the name or the number agrees."""
    name, number = card.fields.get("name"), card.fields.get("id_number")
    by_number = bool(number) and str(number) == str(person.get("id_number") or "")
    return by_number or (bool(name) and same(name, person["name"]))


# --- names and seals -----------------------------------------------------------------


def _judge_field(case: Case, document: DocumentEntry, field: str) -> Judgement:
    note = _note(document, field)
    fits = note.get("disagreement") or {}
    return judge(
        case.company,
        document.fields.get(field),
        note.get("confidence"),
        fits.get(case.company) if isinstance(fits, dict) else None,
    )


def company_names(case: Case) -> Iterator[Finding]:
    for index, document in enumerate(case.documents):
        field = NAMED_KINDS.get(document.kind)
        if field is None:
            continue
        verdict = _judge_field(case, document, field)
        yield from _name_findings(
            Code.NAME_MISMATCH, verdict, case.company, index, document, field, say("单位名称")
        )


def _name_findings(
    code: Code,
    verdict: Judgement,
    expected: str,
    index: int,
    document: DocumentEntry,
    field: str,
    what: Say,
    bbox: list[int] | None = None,
    named: Say | None = None,
    doubt: Say | None = None,
    **more: Any,
) -> Iterator[Finding]:
    """The finding a name's verdict calls for: a difference an error (a warning, saying
    why, when ``doubt`` gives a reason to doubt the read), a doubt a warning, a misread the
    image fits information. ``named``: what the expected name is; ``more``: evidence."""
    place = _where(document)
    box = bbox if bbox is not None else _note(document, field).get("bbox")
    evidence = {"expected": expected, **verdict.evidence, "field": field, "bbox": box, **more}
    named = named or say("申请单位名称")
    if verdict.outcome == "differs":
        parts = dict(place=place, what=what, found=verdict.found, named=named, expected=expected)
        yield _finding(
            code,
            Severity.WARNING if doubt else Severity.ERROR,
            say(
                "{place}上的{what}“{found}”与{named}“{expected}”不一致，{doubt}",
                doubt=doubt,
                **parts,
            )
            if doubt
            else say("{place}上的{what}“{found}”与{named}“{expected}”不一致", **parts),
            index,
            document,
            **evidence,
        )
    elif verdict.outcome == "unsure":
        read = say("读作“{found}”", found=verdict.found) if verdict.found else say("未能读出")
        if verdict.worn:
            read += say("（印文部分缺墨，字迹不全）")
        yield _finding(
            code,
            Severity.WARNING,
            say(
                "{place}上的{what}{read}，无法确认与“{expected}”一致：请人工核对。",
                place=place,
                what=what,
                read=read,
                expected=expected,
            ),
            index,
            document,
            **evidence,
        )
    elif verdict.outcome == "fits":
        yield _finding(
            code,
            Severity.INFO,
            say(
                "{place}上的{what}识别为“{found}”，但图像与“{expected}”相符（个别字迹不清）。",
                place=place,
                what=what,
                found=verdict.found,
                expected=expected,
            ),
            index,
            document,
            **evidence,
        )


def seals(case: Case) -> Iterator[Finding]:
    for index, document in enumerate(case.documents):
        company_seals = [s for s in document.seals if s.get("owner") == "company"]
        if document.kind in STAMPED_KINDS and not company_seals:
            authority = [s for s in document.seals if s.get("owner") == "authority"]
            also = say("（仅有登记机关印章，不是单位公章）") if authority else NOTHING
            yield _seal_missing(index, document, also)
        for seal in company_seals:
            fits = seal.get("disagreement") or {}
            by_character = seal.get("disagreement_by_character") or {}
            verdict = judge(
                case.company,
                seal.get("text") or None,
                seal.get("confidence"),
                fits.get(case.company) if isinstance(fits, dict) else None,
                rim=True,
                worn=bool(seal.get("worn")),
                by_character=by_character.get(case.company)
                if isinstance(by_character, dict)
                else None,
            )
            twin = _same_seal(seal, case.company)
            if twin is not None and open_to_a_twin(verdict, case.company):
                yield _twin_finding(verdict, case.company, index, document, seal, twin)
                continue
            yield from _name_findings(
                Code.SEAL_NAME_MISMATCH,
                verdict,
                case.company,
                index,
                document,
                "seal",
                say("公章印文（灰度扫描件上按形状找到）") if seal.get("grey") else say("公章印文"),
                bbox=seal.get("bbox"),
            )


def _seal_missing(index: int, document: DocumentEntry, also: Say) -> Finding:
    """No company seal on a copy that needs one. On a page with no colour the seal can
    only be found by its shape: where a ring of ink is there that was not taken for a seal
    (a pale or slanted press), that is a doubt for a person (warning); where nothing round
    is there at all, the seal is absent (error), as on a colour page."""
    colour = document.field_notes.get("page_colour") or {}
    grey, traces = bool(colour.get("grey")), bool(colour.get("seal_traces"))
    place = _where(document)
    if grey and traces:
        message = say(
            "{place}上没有红色印迹（灰度扫描或复印件），有疑似印章的痕迹（印圈或五角星），"
            "但未能确认为单位公章{also}：请人工核对，或请申请人提供彩色扫描件。",
            place=place,
            also=also,
        )
    elif grey:
        message = say(
            "{place}上没有红色印迹（灰度扫描或复印件），按形状也未找到单位公章{also}："
            "须加盖单位公章。",
            place=place,
            also=also,
        )
    else:
        message = say(
            "{place}上未检出单位公章（红色印章）{also}：须加盖单位公章。", place=place, also=also
        )
    return _finding(
        Code.SEAL_MISSING,
        Severity.WARNING if grey and traces else Severity.ERROR,
        message,
        index,
        document,
        kind=document.kind,
        seals=[s.get("text") for s in document.seals],
        grey=grey,
    )


def _same_seal(seal: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The rim weighed again where the application's clear impression of the seal, read as
    ``name``, has it (see pipeline.extract.documents.compare_impressions), when it fits."""
    compared = seal.get("same_seal")
    twin = compared.get(name) if isinstance(compared, dict) else None
    if not isinstance(twin, dict):
        return None
    if not fits_where_clear(name, twin.get("disagreement"), twin.get("by_character")):
        return None
    return twin


def _twin_finding(
    verdict: Judgement,
    expected: str,
    index: int,
    document: DocumentEntry,
    seal: dict[str, Any],
    twin: dict[str, Any],
) -> Finding:
    """A seal too faint to read by itself whose ink, where another page's clear impression of
    the seal has the name, fits the name: the doubt is settled as a clerk settles it, by
    holding the two side by side (印章比对). Only doubt, and only a read that lacks or
    misreads characters: a seal read surely as another name stays an error, and one read
    with a character inside the name that the name lacks stays a warning (a seal cut with
    a character more is what the comparison must never let pass)."""
    read = say("读作“{found}”", found=verdict.found) if verdict.found else say("未能读出")
    there = say("{source} 第 {page} 页", source=twin.get("source"), page=twin.get("page"))
    return _finding(
        Code.SEAL_NAME_MISMATCH,
        Severity.INFO,
        say(
            "{place}上的公章印文{read}（字迹不清），但按{there}上清晰的同一枚公章"
            "的字位比对，图像与“{expected}”相符。",
            place=_where(document),
            read=read,
            there=there,
            expected=expected,
        ),
        index,
        document,
        expected=expected,
        **verdict.evidence,
        same_seal=twin,
        field="seal",
        bbox=seal.get("bbox"),
    )


# --- codes ---------------------------------------------------------------------------


def _code_findings(
    case: Case, index: int, document: DocumentEntry, field: str, expected: str | None
) -> Iterator[Finding]:
    value = document.fields.get(field)
    note = _note(document, field)
    place = _where(document)
    # a code is issued with its check character right: where the application's code is
    # valid and the one read fails its own, the read is what went wrong (9 read as Q at
    # 0.96 on a form), or the paper is forged: a person must look, either way
    misread = (
        value is not None
        and not uscc.is_valid(str(value))
        and expected is not None
        and uscc.is_valid(expected)
    )
    unsure = bool(note.get("guessed")) or (note.get("confidence") or 1.0) < 0.9 or misread
    evidence = {
        "expected": expected,
        "found": value,
        "read": note.get("read", value),
        "corrections": note.get("corrections", []),
        "confidence": note.get("confidence"),
        "bbox": note.get("bbox"),
    }
    if value is None:
        old_style = document.kind == "business_licence" and bool(
            document.fields.get("registration_number")
        )
        if old_style and any(True for _ in case.of_kind("org_code_certificate")):
            return  # its 注册号 read: the organisation code certificate carries the code
        yield _finding(
            Code.USCC_MISMATCH,
            Severity.WARNING,
            say(
                "{place}上未读到统一社会信用代码：若为旧版执照，须附组织机构代码证；"
                "否则请人工核对执照上的代码。",
                place=place,
            ),
            index,
            document,
            **evidence,
        )
        return
    if not uscc.is_valid(str(value)):
        yield _finding(
            Code.USCC_INVALID,
            Severity.WARNING if unsure else Severity.ERROR,
            say(
                "{place}上的统一社会信用代码“{value}”校验位不正确（GB 32100-2015）。",
                place=place,
                value=str(value),
            ),
            index,
            document,
            **evidence,
        )
    if expected is not None and str(value) != expected:
        yield _finding(
            Code.USCC_MISMATCH,
            Severity.WARNING if unsure else Severity.ERROR,
            say(
                "{place}上的统一社会信用代码“{value}”与申请填写的“{expected}”不一致。",
                place=place,
                value=str(value),
                expected=expected,
            ),
            index,
            document,
            **evidence,
        )


def credit_codes(case: Case) -> Iterator[Finding]:
    if case.foreign:
        return
    typed = case.record.company_uscc.strip().upper()
    typed_valid = uscc.is_valid(typed)
    if not typed_valid:
        yield _finding(
            Code.USCC_INVALID,
            Severity.ERROR,
            say(
                "申请填写的统一社会信用代码“{typed}”不符合 GB 32100-2015（格式或校验位）。",
                typed=typed,
            ),
            None,
            None,
            source="application",
            found=typed,
        )
    for kind in ("business_licence", "application_form", "confirmation_letter"):
        for index, document in case.of_kind(kind):
            if kind != "business_licence" and "uscc" not in document.fields:
                continue  # forms print it only sometimes
            yield from _code_findings(case, index, document, "uscc", typed)
    for index, document in case.of_kind("org_code_certificate"):
        code = str(document.fields.get("org_code", "")).replace("-", "")
        expected = typed[8:17] if len(typed) == 18 else None
        if expected and code != expected:
            # the credit code holds no I, O, S, V or Z, so an organisation code inside it
            # read with one of them (MA6KXOLK3) differs only as OCR's look-alikes do
            look_alike = code.translate(LOOK_ALIKE_TO_USCC) == expected
            yield _finding(
                Code.USCC_MISMATCH,
                Severity.ERROR if code and not look_alike else Severity.WARNING,
                (
                    say(
                        "{place}上的组织机构代码“{code}”与统一社会信用代码第 9–17 位“{expected}”"
                        "不一致（仅有形近字符之差，疑为识别误差）：请人工核对。",
                        place=_where(document),
                        code=code,
                        expected=expected,
                    )
                    if look_alike
                    else say(
                        "{place}上的组织机构代码“{code}”与统一社会信用代码第 9–17 位“{expected}”"
                        "不一致。",
                        place=_where(document),
                        code=code or say("未读出"),
                        expected=expected,
                    )
                ),
                index,
                document,
                expected=expected,
                found=code or None,
                bbox=_note(document, "org_code").get("bbox"),
            )


# --- people --------------------------------------------------------------------------


def _person_for(case: Case, document: DocumentEntry) -> tuple[str, dict[str, Any]]:
    """Whose card this is: the agent's when it names the agent, else the contact's."""
    agent = case.agent
    if agent is not None and _card_of(document, agent):
        return "agent", agent
    return "contact", case.record.contact


def id_cards(case: Case) -> Iterator[Finding]:
    for index, document in case.of_kind("id_card_copy"):
        role, person = _person_for(case, document)
        who = say("联系人") if role == "contact" else say("代理人")
        place = _where(document)
        fields = document.fields
        number = fields.get("id_number")
        note = _note(document, "id_number")
        if number is not None:
            yield from _id_number_form(index, document, str(number), note)
        expected_number = person.get("id_number")
        if number is not None and expected_number and str(number) != str(expected_number):
            yield _finding(
                Code.ID_NUMBER_MISMATCH,
                Severity.WARNING if note.get("guessed") else Severity.ERROR,
                say("{place}上的公民身份号码与{who}登记的号码不一致。", place=place, who=who),
                index,
                document,
                expected=_mask(expected_number),
                found=_mask(number),
                person=role,
                bbox=note.get("bbox"),
            )
        # the number names the card's holder: where it is the registered one, read
        # surely, a name that differs is in doubt (冯丽字 read for 冯丽宇), not another's card
        holder = number is not None and str(number) == str(expected_number or "")
        holder = holder and not note.get("guessed")
        yield from _person_name(
            document, index, "name", person["name"], say("姓名"), who, role, holder
        )
        yield from _id_validity(case, index, document)


def _person_name(
    document: DocumentEntry,
    index: int,
    field: str,
    expected: str,
    what: Say,
    who: Say,
    role: str,
    holder: bool = False,
    unscored: float | None = None,
) -> Iterator[Finding]:
    """A person's name as the document gives it, judged against the registered one as a
    company's name is (see pipeline.model.names.judge: the registered name weighed on the
    name's line settles a misread character), except that a difference on a card whose
    number is the registered one, read surely (``holder``), is a doubt: the number names the
    holder. ``unscored``: the confidence of a read whose note has none."""
    name = document.fields.get(field)
    note = _note(document, field)
    fits = note.get("disagreement") or {}
    verdict = judge(
        expected,
        str(name) if name else None,
        note.get("confidence", unscored) if name else None,
        fits.get(expected) if isinstance(fits, dict) else None,
    )
    yield from _name_findings(
        Code.ID_NAME_MISMATCH,
        verdict,
        expected,
        index,
        document,
        field,
        what,
        named=who,
        doubt=say("但公民身份号码与登记的一致：可能是姓名识别有误，请人工核对。")
        if holder
        else None,
        person=role,
    )


def _id_number_form(
    index: int, document: DocumentEntry, number: str, note: dict[str, Any]
) -> Iterator[Finding]:
    """GB 11643-1999: check character and birth date are hard rules (an error unless the
    read was a guess); a region code GB/T 2260 never had is a warning naming it, since
    codes are assigned at registration and the table may lack one."""
    place = _where(document)
    checked = check_id_number(number)
    if not checked.valid:
        yield _finding(
            Code.ID_NUMBER_INVALID,
            Severity.WARNING if note.get("guessed") else Severity.ERROR,
            say("{place}上的公民身份号码不符合 GB 11643-1999（校验码或出生日期）。", place=place),
            index,
            document,
            found=_mask(number),
            bbox=note.get("bbox"),
        )
    elif checked.region is None:
        yield _finding(
            Code.ID_REGION_UNKNOWN,
            Severity.WARNING,
            say(
                "{place}上的公民身份号码以地区码 {region} 开头，"
                "该码不在 GB/T 2260 历年行政区划代码中：请人工核对身份证原件。",
                place=place,
                region=number[:6],
            ),
            index,
            document,
            found=_mask(number),
            region_code=number[:6],
            bbox=note.get("bbox"),
        )


def _id_validity(case: Case, index: int, document: DocumentEntry) -> Iterator[Finding]:
    fields = document.fields
    place = _where(document)
    front = "id_number" in fields or "name" in fields
    back = "valid_to" in fields or "issuing_authority" in fields
    for present, side in ((front, N_("人像面")), (back, N_("国徽面"))):
        if not present:
            yield _finding(
                Code.DOCUMENT_MISSING,
                Severity.WARNING,
                say(
                    "{place}上未读到身份证{side}：正反面须齐全，请人工核对。",
                    place=place,
                    side=say(side),
                ),
                index,
                document,
                kind="id_card_copy",
                side=side,
            )
    valid_to = fields.get("valid_to")
    if valid_to and valid_to != "长期":
        try:
            end = date.fromisoformat(str(valid_to))
        except ValueError:
            return
        if end < case.today:
            yield _finding(
                Code.ID_EXPIRED,
                Severity.ERROR,
                say(
                    "{place}上的身份证有效期至 {end}，在 {today} 已过期。",
                    place=place,
                    end=end.isoformat(),
                    today=case.today.isoformat(),
                ),
                index,
                document,
                valid_to=end.isoformat(),
                today=case.today.isoformat(),
                bbox=_note(document, "valid_to").get("bbox"),
            )


def _mask(number: Any) -> str:
    """An ID number with all but its last four characters hidden (reports leave the
    building; full numbers stay in the record)."""
    text = str(number)
    return "*" * max(0, len(text) - 4) + text[-4:]


def authorization(case: Case) -> Iterator[Finding]:
    agent = case.agent
    if agent is None:
        return
    for index, document in case.of_kind("authorization_letter"):
        # a letter's print reads surely unless its note says otherwise
        yield from _person_name(
            document,
            index,
            "agent_name",
            agent["name"],
            say("受托人"),
            say("代理人"),
            "agent",
            unscored=1.0,
        )
        number = document.fields.get("agent_id_number")
        if number and agent.get("id_number") and number != agent["id_number"]:
            yield _finding(
                Code.ID_NUMBER_MISMATCH,
                Severity.ERROR,
                say("{place}上受托人的身份证号码与代理人登记的不一致。", place=_where(document)),
                index,
                document,
                expected=_mask(agent["id_number"]),
                found=_mask(number),
                person="agent",
            )


# --- money and dates -----------------------------------------------------------------


def amount_due(record: ApplicationRecord) -> float:
    """What the order costs: MOFCOM keys are free (seed 003: 电子钥匙申领均为免费服务),
    whatever the order says; a CQC order its stated fee, else 1000 元 a key."""
    if record.scheme == "mofcom":
        return 0.0
    return float(record.order.get("fee_cny", record.keys * FEE_PER_KEY_CNY))


def payment(case: Case) -> Iterator[Finding]:
    paid = case.record.payment
    due = amount_due(case.record)
    if not isinstance(paid, dict):
        if due > 0:
            yield _finding(
                Code.PAYMENT_MISSING,
                Severity.WARNING,
                say("尚无到账记录：须由单位对公账户汇款后方可审核。"),
                None,
                None,
                expected=due,
            )
        return
    payer = paid.get("payer_name", "")
    if not same(payer, case.company):
        yield _finding(
            Code.PAYER_MISMATCH,
            Severity.ERROR,
            say(
                "汇款人“{payer}”不是申请单位“{company}”：须由单位本身付款，不接受个人或其他单位代付。",
                payer=payer,
                company=case.company,
            ),
            None,
            None,
            expected=case.company,
            found=payer,
        )
    amount = paid.get("amount_cny")
    if due == 0:
        free_key = case.record.scheme == "mofcom"
        if amount:
            yield _finding(
                Code.PAYMENT_AMOUNT_MISMATCH,
                Severity.INFO,
                (
                    say(
                        "本订单无须付费（商务部电子钥匙免费申领），但登记了 {amount} 元到账："
                        "请财务退回。",
                        amount=amount,
                    )
                    if free_key
                    else say(
                        "本订单无须付费，但登记了 {amount} 元到账：请财务退回。", amount=amount
                    )
                ),
                None,
                None,
                expected=0,
                found=amount,
            )
        return
    if amount is None or float(amount) != due:
        keys = case.record.keys
        yield _finding(
            Code.PAYMENT_AMOUNT_MISMATCH,
            Severity.ERROR,
            say(
                "到账金额 {amount} 元与订单应付 {due} 元（{keys} 个 × {fee} 元/年）不符。",
                amount=amount,
                due=format(due, "g"),
                keys=keys,
                fee=FEE_PER_KEY_CNY,
            ),
            None,
            None,
            expected=due,
            found=amount,
        )


def licence_period(case: Case) -> Iterator[Finding]:
    for index, document in case.of_kind("business_licence"):
        period = document.fields.get("operating_period")
        end = str(period).split("/", 1)[1] if period and "/" in str(period) else ""
        if end == "长期":
            continue
        try:
            until = date.fromisoformat(end)
        except ValueError:
            note = _note(document, "operating_period")
            yield _finding(
                Code.LICENCE_EXPIRED,
                Severity.WARNING,
                say(
                    "{place}的营业期限读作“{printed}”，无法确认是否届满：请人工核对。",
                    place=_where(document),
                    printed=note["printed"],
                )
                if note.get("printed")
                else say(
                    "{place}的营业期限未能读出，无法确认是否届满：请人工核对。",
                    place=_where(document),
                ),
                index,
                document,
                operating_period=period,
                today=case.today.isoformat(),
                bbox=note.get("bbox"),
            )
            continue
        if until < case.today:
            yield _finding(
                Code.LICENCE_EXPIRED,
                Severity.ERROR,
                say(
                    "{place}的营业期限至 {until}，已届满。",
                    place=_where(document),
                    until=until.isoformat(),
                ),
                index,
                document,
                operating_period=period,
                today=case.today.isoformat(),
                bbox=_note(document, "operating_period").get("bbox"),
            )


def form_details(case: Case) -> Iterator[Finding]:
    for index, document in case.of_kind("application_form"):
        printed = document.fields.get("application_id")
        if printed and printed != case.record.application_id:
            yield _finding(
                Code.APPLICATION_ID_MISMATCH,
                Severity.ERROR,
                say(
                    "{place}的申请编号“{printed}”不是本申请（{ours}）的：可能放错了材料。",
                    place=_where(document),
                    printed=printed,
                    ours=case.record.application_id,
                ),
                index,
                document,
                expected=case.record.application_id,
                found=printed,
            )

    for index, document in enumerate(case.documents):
        if document.fields.get("signature_present") is False:
            who = say("经办人") if document.kind == "application_form" else say("法定代表人")
            yield _finding(
                Code.SIGNATURE_MISSING,
                Severity.WARNING,
                say("{place}上{who}签字处未见签名：请人工核对。", place=_where(document), who=who),
                index,
                document,
            )


RULES: tuple[Rule, ...] = (
    documents_present,
    company_names,
    seals,
    credit_codes,
    id_cards,
    authorization,
    payment,
    licence_period,
    form_details,
)


def validate(
    record: ApplicationRecord,
    documents: tuple[DocumentEntry, ...] | list[DocumentEntry],
    today: date,
) -> list[Finding]:
    """Every finding of every rule, in rule order."""
    case = Case(record, tuple(documents), today)
    return [finding for rule in RULES for finding in rule(case)]


__all__ = ["RULES", "Case", "fold", "required_kinds", "validate"]
