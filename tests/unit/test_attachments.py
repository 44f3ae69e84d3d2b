"""Pièces jointes: files are recognised by their content, bad ones refused in French."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject
from sqlalchemy import func, select

from extensions import db
from models import Attachment, StoredFile, Structure
from services import attachments
from services.attachments import UploadError, validate_upload
from tests.envoi_helpers import (
    HTML, jpeg_bytes, make_draft, pdf_bytes, png_bytes, tiff_bytes, user, zip_bytes,
)

MAX = 10 * 1024 * 1024


@pytest.mark.parametrize("name, data, extension, mime", [
    ("requisition.pdf", pdf_bytes(), "pdf", "application/pdf"),
    ("photo.JPG", jpeg_bytes(), "jpg", "image/jpeg"),
    ("photo.jpeg", jpeg_bytes(), "jpeg", "image/jpeg"),
    ("scan.png", png_bytes(), "png", "image/png"),
    ("scan.tiff", tiff_bytes(), "tiff", "image/tiff"),
    ("scan.tif", tiff_bytes(), "tif", "image/tiff"),
])
def test_pdf_and_images_are_accepted_by_their_content(name, data, extension, mime):
    checked = validate_upload(name, data, MAX)
    assert (checked.extension, checked.mime, checked.data) == (extension, mime, data)


@pytest.mark.parametrize("name, data, reason", [
    ("archive.zip", zip_bytes(), "n'est pas accepté"),
    ("archive.pdf", zip_bytes(), "n'est pas accepté"),
    ("page.jpg", HTML, "n'est pas accepté"),
    ("page.html", HTML, "n'est pas accepté"),
    ("programme.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64,
     "n'est pas accepté"),
    ("image.jpg", png_bytes(), "ne correspond pas"),
    ("document.png", pdf_bytes(), "ne correspond pas"),
    ("sans-extension", pdf_bytes(), "ne correspond pas"),
    ("vide.pdf", b"", "vide"),
    ("tronque.pdf", pdf_bytes()[:200], "incomplet"),
])
def test_other_files_are_refused_with_the_accepted_kinds(name, data, reason):
    with pytest.raises(UploadError) as refused:
        validate_upload(name, data, MAX)
    message = str(refused.value)
    assert reason in message
    assert "PDF, JPEG, PNG ou TIFF" in message
    assert refused.value.field == "fichier"


def _rewritten(pdf: bytes, change) -> bytes:
    """The given PDF passed through pypdf's writer after `change(writer)`."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _launch_on_open(writer):
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")})


def _script_on_page_open(writer):
    script = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                               NameObject("/JS"): TextStringObject("app.alert('x');")})
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): script})


@pytest.mark.parametrize("change", [
    _script_on_page_open,
    lambda writer: writer.add_attachment("charge.exe", b"MZ"),
    _launch_on_open,
], ids=["javascript", "fichier-incorpore", "lancement"])
def test_pdfs_with_active_content_are_refused(change):
    with pytest.raises(UploadError, match="contenu actif") as refused:
        validate_upload("requisition.pdf", _rewritten(pdf_bytes(), change), MAX)
    assert "Enregistrer au format PDF" in str(refused.value)


def test_active_content_is_found_behind_escaped_names():
    """« /J#61vaScript » is « /JavaScript » for a PDF reader: it is for the check too."""
    data = pdf_bytes().replace(b"/Type /Catalog", b"/Type /Catalog /AA << /WC << /S /J#61vaScript "
                                                   b"/J#53 (app.alert(1)) >> >>", 1)
    assert b"J#61vaScript" in data
    with pytest.raises(UploadError, match="contenu actif"):
        validate_upload("requisition.pdf", data, MAX)


def test_a_password_protected_pdf_is_refused_with_the_reason():
    data = _rewritten(pdf_bytes(), lambda writer: writer.encrypt("secret", algorithm="RC4-128"))
    with pytest.raises(UploadError, match="protégé par un mot de passe"):
        validate_upload("requisition.pdf", data, MAX)


def test_a_pdf_whose_structure_is_garbage_is_refused():
    data = b"%PDF-1.7\n" + bytes(range(256)) * 20 + b"\n%%EOF\n"
    with pytest.raises(UploadError, match="illisible ou endommagé"):
        validate_upload("requisition.pdf", data, MAX)


def test_ordinary_pdfs_pass_the_active_content_check():
    """A plain PDF, and the same rewritten by another producer, are accepted."""
    plain = pdf_bytes("Attestation")
    compressed = _rewritten(plain, lambda writer: writer.compress_identical_objects())
    for data in (plain, compressed):
        assert validate_upload("attestation.pdf", data, MAX).mime == "application/pdf"


def test_oversize_file_is_refused():
    data = pdf_bytes()
    with pytest.raises(UploadError, match="taille maximale de 1 Ko"):
        validate_upload("gros.pdf", data, max_bytes=len(data) - 1)
    assert validate_upload("gros.pdf", data, max_bytes=len(data)).data == data


def test_pixel_flood_image_is_refused():
    buffer = io.BytesIO()
    Image.new("1", (3000, 3000)).save(buffer, format="PNG")
    with pytest.raises(UploadError, match="trop grande"):
        validate_upload("flood.png", buffer.getvalue(), MAX, max_pixels=1_000_000)


def test_broken_image_is_refused():
    data = png_bytes()
    with pytest.raises(UploadError, match="illisible"):
        validate_upload("casse.png", data[:40], MAX)


@pytest.mark.parametrize("name, expected", [
    ("../../app.py.pdf", "app.py.pdf"),
    ("..\\..\\windows\\system32.pdf", "system32.pdf"),
    ("Réquisition été.pdf", "Requisition_ete.pdf"),
    ("/etc/passwd.pdf", "passwd.pdf"),
    ("\u202e.pdf", "piece-jointe.pdf"),
    ("C:\\Users\\claire\\Réquisition.pdf", "Requisition.pdf"),
])
def test_path_traversal_names_become_a_safe_display_name(name, expected):
    assert validate_upload(name, pdf_bytes(), MAX).safe_name == expected


def test_long_names_are_capped_and_keep_their_extension():
    name = validate_upload("a" * 300 + ".pdf", pdf_bytes(), MAX).safe_name
    assert len(name) == attachments.MAX_NAME_LENGTH
    assert name.endswith(".pdf")


def test_traversal_name_in_upload_writes_nothing_outside_the_database(app):
    with app.app_context():
        memoire = make_draft(db.session)
        owner = user(db.session, "interprete@demo.test")
        added = attachments.add_attachment(db.session, owner, memoire, None, "../../app.py.pdf",
                                           pdf_bytes("x"), "Réquisition", "REQUISITION", MAX, 40)
        db.session.commit()
        assert added.filename == "app.py.pdf"
        stored = db.session.get(StoredFile, added.sha256)
        assert stored.sha256 == added.sha256 and len(stored.sha256) == 64
        assert attachments.storage.verify(stored)


def test_attachment_count_is_limited_per_memoire(app):
    with app.app_context():
        memoire = make_draft(db.session)
        owner = user(db.session, "interprete@demo.test")
        for index in range(3):
            attachments.add_attachment(db.session, owner, memoire, None, f"p{index}.pdf",
                                       pdf_bytes(str(index)), f"Pièce {index}", "AUTRE", MAX, 3)
        with pytest.raises(UploadError, match="au plus 3 pièces jointes"):
            attachments.add_attachment(db.session, owner, memoire, None, "p4.pdf",
                                       pdf_bytes("4"), "Pièce 4", "AUTRE", MAX, 3)


def test_metadata_is_required(app):
    with app.app_context():
        memoire = make_draft(db.session)
        owner = user(db.session, "interprete@demo.test")
        with pytest.raises(UploadError) as missing:
            attachments.add_attachment(db.session, owner, memoire, None, "p.pdf", pdf_bytes(),
                                       "  ", "AUTRE", MAX, 40)
        assert missing.value.field == "designation"
        with pytest.raises(UploadError) as unknown:
            attachments.add_attachment(db.session, owner, memoire, None, "p.pdf", pdf_bytes(),
                                       "Pièce", "INCONNU", MAX, 40)
        assert unknown.value.field == "type_code"


def test_same_bytes_are_stored_once_and_deleted_when_unused(app):
    with app.app_context():
        memoire = make_draft(db.session)
        owner = user(db.session, "interprete@demo.test")
        data = pdf_bytes("unique")
        first = attachments.add_attachment(db.session, owner, memoire, None, "a.pdf", data,
                                           "A", "AUTRE", MAX, 40)
        second = attachments.add_attachment(db.session, owner, memoire, memoire.lines[0],
                                            "b.pdf", data, "B", "AUTRE", MAX, 40)
        assert first.sha256 == second.sha256
        assert db.session.scalar(select(func.count()).select_from(StoredFile)
                                 .where(StoredFile.sha256 == first.sha256)) == 1
        attachments.delete_attachment(db.session, owner, first)
        assert db.session.get(StoredFile, second.sha256) is not None
        attachments.delete_attachment(db.session, owner, second)
        db.session.commit()
        assert db.session.get(StoredFile, second.sha256) is None


def test_structure_library_document_is_imported_into_a_memoire(app):
    with app.app_context():
        owner = user(db.session, "interprete@demo.test")
        structure = db.session.scalar(select(Structure).where(Structure.gestionnaire_id == owner.id))
        document = attachments.add_structure_document(
            db.session, owner, structure, "carte-grise.pdf", pdf_bytes("carte grise"),
            "Carte grise", "JUSTIFICATIF_FRAIS", MAX)
        assert document.memoire_id is None and document.structure_id == structure.id
        assert document in attachments.library(db.session, structure.id)
        memoire = make_draft(db.session)
        imported = attachments.import_document(db.session, owner, memoire, document,
                                               memoire.lines[0])
        assert (imported.memoire_id, imported.line_id) == (memoire.id, memoire.lines[0].id)
        assert imported.sha256 == document.sha256 and imported.designation == "Carte grise"
        other = make_draft(db.session, "expert@demo.test", juridiction_code="tj69123")
        with pytest.raises(UploadError):
            attachments.import_document(db.session, owner, other, document)
        assert db.session.scalar(select(func.count(Attachment.id))
                                 .where(Attachment.memoire_id == other.id)) == 0
