"""Demo role ``document``: everyday files that are not pictures (PDF, text, CSV, HTML, DOCX).

Every format is written by hand (no office library), byte for byte the same each build.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta

from unseen.demo.builder import DemoBuilder

_DOCS = "Users/sam/Documents"


def minimal_pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF 1.4 showing ``lines`` in Helvetica, with a correct xref."""
    text = " ".join(f"({_pdf_escape(line)}) Tj 0 -18 Td" for line in lines)
    stream = f"BT /F1 14 Tf 72 770 Td {text} ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>"""  # noqa: E501
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
</Relationships>"""  # noqa: E501
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def minimal_docx(paragraphs: list[str], when: datetime) -> bytes:
    """A minimal Word document (OOXML zip); member times fixed to ``when``."""
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<w:document xmlns:w="{_W}"><w:body>{body}</w:body></w:document>'
    )
    out = io.BytesIO()
    stamp = when.timetuple()[:6]
    with zipfile.ZipFile(out, "w") as zf:
        for name, text in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _RELS),
            ("word/document.xml", document),
        ):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text.encode())
    return out.getvalue()


_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Lemon drizzle cake</title></head>
<body><h1>Lemon drizzle cake</h1>
<ul><li>225 g butter</li><li>225 g caster sugar</li><li>4 eggs</li><li>2 lemons</li></ul>
<p>Bake at 180 C for 45 minutes.</p></body></html>
"""
_CSV = "month,rent,food,travel\n2024-01,650,210,85\n2024-02,650,195,60\n2024-03,650,230,120\n"


def documents(b: DemoBuilder) -> None:
    """Role ``document``: a PDF, two text files, a CSV, saved HTML and a DOCX."""
    when = datetime(2024, 3, 1, 9, 0)
    plan: list[tuple[str, bytes, str]] = [
        (f"{_DOCS}/invoice_2024-03.pdf",
         minimal_pdf(["Invoice 2024-03", "Window cleaning, 3 visits", "Total: GBP 45.00"]),
         "one-page PDF"),
        (f"{_DOCS}/notes/todo.txt", b"- renew bus pass\n- call the dentist\n- back up photos\n",
         "plain text"),
        (f"{_DOCS}/budget.csv", _CSV.encode(), "CSV"),
        (f"{_DOCS}/saved/Recipe - lemon cake.html", _HTML.encode(), "saved web page"),
        (f"{_DOCS}/letter.docx",
         minimal_docx(["Dear Ms Taylor,", "Thank you for the quick repair."], when), "DOCX"),
        ("Users/sam/Desktop/shopping list.txt", b"milk\nbread\napples\ncoffee\n", "plain text"),
    ]  # fmt: skip
    for i, (rel, data, note) in enumerate(plan):
        b.write(rel, data, when + timedelta(days=3 * i, hours=i), "document", note=note)
