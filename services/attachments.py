"""Pièces jointes: checking uploaded files, attaching them to a mémoire or one of its lines,
the structure's library of reusable documents, and deletion.

A file is recognised by its content (magic bytes through `filetype`, then Pillow for images),
never by its name or the declared type; the name's extension must agree with the content.
Only PDF, JPEG, PNG and TIFF are accepted: no archives, no HTML, no office files. The user's
file name is kept only as a display name (secure_filename + length cap); the bytes are stored
content-addressed by services.storage, in the caller's transaction.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import filetype
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename

from models import (
    Attachment,
    BankAccount,
    Memoire,
    PrestationLine,
    Structure,
    TypePieceJointe,
    User,
)
from models.memoire import StoredFile
from services import lifecycle, storage

ACCEPTED_KINDS = "PDF, JPEG, PNG ou TIFF"
# Kind found in the content -> (mime, extensions a file name of that kind may carry).
KINDS = {
    "pdf": ("application/pdf", {"pdf"}),
    "jpg": ("image/jpeg", {"jpg", "jpeg", "jpe"}),
    "png": ("image/png", {"png"}),
    "tif": ("image/tiff", {"tif", "tiff"}),
}
PILLOW_FORMATS = {"jpg": "JPEG", "png": "PNG", "tif": "TIFF"}
# Shown inline (in a sandbox) by browsers; TIFF is only downloaded.
VIEWABLE_EXTENSIONS = frozenset({"pdf", "jpg", "jpeg", "jpe", "png"})
DEFAULT_MAX_PIXELS = 40_000_000
MAX_NAME_LENGTH = 80
MAX_DESIGNATION = 100
RIB_TYPE = "RIB"

FILE_FIELD = "fichier"


class UploadError(ValueError):
    """A refused file or attachment; the message is for the user (French), `field` names the
    form field it belongs to."""

    def __init__(self, message: str, field: str = FILE_FIELD):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ValidatedFile:
    extension: str
    mime: str
    data: bytes
    safe_name: str


def _refused(reason: str) -> UploadError:
    return UploadError(f"{reason} Formats acceptés : {ACCEPTED_KINDS}.")


def size_label(max_bytes: int) -> str:
    megabytes = max_bytes / (1024 * 1024)
    if megabytes >= 1:
        return f"{megabytes:g} Mo".replace(".", ",")
    return f"{max(1, max_bytes // 1024)} Ko"


def safe_display_name(filename: str, extension: str) -> str:
    """A harmless display name: no path, no control or special characters, bounded length."""
    # Keep only the last path component (some browsers send C:\\…\\file.pdf), then sanitise.
    name = secure_filename((filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    stem, dot, ext = name.rpartition(".")
    if not dot:  # « .pdf » alone is secured to « pdf »: no stem left
        stem, ext = ("" if name.lower() == extension else name), ""
    ext = ext.lower() or extension
    stem = stem[: MAX_NAME_LENGTH - len(ext) - 1] or "piece-jointe"
    return f"{stem}.{ext}"


def validate_upload(filename: str, data: bytes, max_bytes: int,
                    max_pixels: int = DEFAULT_MAX_PIXELS) -> ValidatedFile:
    """Check an uploaded file by its content. Raises UploadError with a French message."""
    if not data:
        raise _refused("Le fichier est vide.")
    if len(data) > max_bytes:
        raise UploadError(f"Le fichier dépasse la taille maximale de {size_label(max_bytes)}.")
    kind = filetype.guess(data)
    if kind is None or kind.extension not in KINDS:
        raise _refused("Ce type de fichier n'est pas accepté.")
    mime, extensions = KINDS[kind.extension]
    name_extension = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if name_extension not in extensions:
        raise _refused("L'extension du nom du fichier ne correspond pas à son contenu.")
    if kind.extension in PILLOW_FORMATS:
        _check_image(data, PILLOW_FORMATS[kind.extension], max_pixels)
    else:
        _check_pdf(data)
    return ValidatedFile(extension=name_extension, mime=mime, data=data,
                         safe_name=safe_display_name(filename, name_extension))


def _check_image(data: bytes, expected_format: str, max_pixels: int) -> None:
    """Pillow reads the header: right format, bounded pixel count (pixel floods), not broken."""
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != expected_format:
                    raise _refused("Le contenu de l'image ne correspond pas à son format.")
                if image.width * image.height > max_pixels:
                    raise _too_many_pixels()
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except UploadError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _refused("L'image est illisible ou endommagée.") from None


# What a PDF viewer would run or open by itself (SECURITY.md #37): scripts, launched programs,
# embedded files, multimedia, XFA forms. A mémoire's evidence never needs any of them.
ACTIVE_PDF_KEYS = {"/JS", "/JavaScript", "/Launch", "/EmbeddedFile", "/EmbeddedFiles",
                   "/RichMedia", "/XFA"}
ACTIVE_PDF_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/RichMediaExecute"}
PDF_WALK_LIMIT = 200_000  # objects visited at most: a pathological file is refused, not walked


def _check_pdf(data: bytes) -> None:
    """pypdf reads the structure: complete, not password-protected, without active content."""
    if b"%%EOF" not in data[-2048:]:
        raise _refused("Le fichier PDF est incomplet ou endommagé.")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise UploadError("Le PDF est protégé par un mot de passe : déposez-le sans protection "
                              "pour que la juridiction puisse le lire.")
        active = _has_active_content(reader.trailer["/Root"])
    except UploadError:
        raise
    except (PyPdfError, KeyError, ValueError, TypeError, AttributeError, RecursionError):
        raise _refused("Le fichier PDF est illisible ou endommagé.") from None
    if active:
        raise UploadError("Ce PDF contient du contenu actif (script, fichier incorporé ou "
                          "programme à lancer). Enregistrez-le à nouveau avec « Imprimer » → "
                          "« Enregistrer au format PDF », puis déposez cette copie.")


def _has_active_content(root) -> bool:
    """Walks every object reachable from the catalogue (object streams included)."""
    seen: set[tuple[int, int]] = set()
    pending = [root]
    visited = 0
    while pending:
        node = pending.pop()
        if isinstance(node, IndirectObject):
            if (node.idnum, node.generation) in seen:
                continue
            seen.add((node.idnum, node.generation))
            node = node.get_object()
        visited += 1
        if visited > PDF_WALK_LIMIT:
            raise ValueError("PDF trop complexe")
        if isinstance(node, DictionaryObject):
            if ACTIVE_PDF_KEYS.intersection(node.keys()):
                return True
            action = node.get("/S")
            if isinstance(action, NameObject) and action in ACTIVE_PDF_ACTIONS:
                return True
            pending.extend(value for key, value in node.items() if key != "/Parent")
        elif isinstance(node, ArrayObject):
            pending.extend(node)
    return False


def _too_many_pixels() -> UploadError:
    return UploadError("L'image est trop grande (nombre de pixels). Réduisez sa résolution.")


# ---------------------------------------------------------------- attaching


def _check_metadata(session: Session, designation: str, type_code: str) -> str:
    designation = (designation or "").strip()
    if not designation:
        raise UploadError("Indiquez une désignation explicite.", "designation")
    if len(designation) > MAX_DESIGNATION:
        raise UploadError(f"{MAX_DESIGNATION} caractères au plus.", "designation")
    if not type_code or session.get(TypePieceJointe, type_code) is None:
        raise UploadError("Choisissez un type de pièce jointe.", "type_code")
    return designation


def _check_editable(session: Session, memoire: Memoire, line: PrestationLine | None,
                    max_count: int | None) -> None:
    if memoire.status not in lifecycle.EDITABLE or memoire.numero_mj:
        raise UploadError("Ce mémoire a été envoyé : ses pièces jointes ne peuvent plus changer.")
    if line is not None and line.memoire_id != memoire.id:
        raise UploadError("Cette ligne de prestation n'appartient pas à ce mémoire.")
    if max_count is not None and count(session, memoire) >= max_count:
        raise UploadError(f"Un mémoire compte au plus {max_count} pièces jointes.")


def count(session: Session, memoire: Memoire) -> int:
    return session.scalar(
        select(func.count(Attachment.id)).where(Attachment.memoire_id == memoire.id)
    )


def add_attachment(session: Session, user: User, memoire: Memoire,
                   line: PrestationLine | None, upload_filename: str, data: bytes,
                   designation: str, type_code: str, max_bytes: int, max_count: int,
                   max_pixels: int = DEFAULT_MAX_PIXELS) -> Attachment:
    """Attach a new file to a draft mémoire (to one of its lines when `line` is given)."""
    designation = _check_metadata(session, designation, type_code)
    _check_editable(session, memoire, line, max_count)
    checked = validate_upload(upload_filename, data, max_bytes, max_pixels)
    stored = storage.store(session, checked.data, checked.mime)
    attachment = Attachment(
        memoire=memoire, line=line, sha256=stored.sha256, filename=checked.safe_name,
        designation=designation, type_code=type_code, extension=checked.extension,
        uploaded_by_id=user.id,
    )
    session.add(attachment)
    session.flush()
    return attachment


def add_structure_document(session: Session, user: User, structure: Structure,
                           upload_filename: str, data: bytes, designation: str, type_code: str,
                           max_bytes: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> Attachment:
    """Put a reusable document in the structure's library (« pièces jointes disponibles »)."""
    designation = _check_metadata(session, designation, type_code)
    checked = validate_upload(upload_filename, data, max_bytes, max_pixels)
    stored = storage.store(session, checked.data, checked.mime)
    document = Attachment(
        structure_id=structure.id, sha256=stored.sha256, filename=checked.safe_name,
        designation=designation, type_code=type_code, extension=checked.extension,
        uploaded_by_id=user.id,
    )
    session.add(document)
    session.flush()
    return document


def library(session: Session, structure_id: int, *, importable: bool = False) -> list[Attachment]:
    """The structure's documents; `importable`: those worth importing into a mémoire (not the
    RIB, which sending attaches by itself)."""
    query = select(Attachment).where(Attachment.structure_id == structure_id,
                                     Attachment.memoire_id.is_(None))
    if importable:
        query = query.where(Attachment.type_code != RIB_TYPE)
    return list(session.scalars(query.order_by(Attachment.designation, Attachment.id)))


def import_document(session: Session, user: User, memoire: Memoire, document: Attachment,
                    line: PrestationLine | None = None,
                    max_count: int | None = None) -> Attachment:
    """Copy a library document of the mémoire's structure into the mémoire (or a line)."""
    if document.memoire_id is not None or document.structure_id != memoire.structure_id:
        raise UploadError("Ce document n'est pas disponible pour ce mémoire.")
    _check_editable(session, memoire, line, max_count)
    attachment = Attachment(
        memoire=memoire, line=line, sha256=document.sha256, filename=document.filename,
        designation=document.designation, type_code=document.type_code,
        extension=document.extension, uploaded_by_id=user.id,
    )
    session.add(attachment)
    session.flush()
    return attachment


def attach_rib(session: Session, memoire: Memoire, account: BankAccount,
               user: User | None) -> Attachment | None:
    """The RIB of the chosen bank account, attached automatically at sending (once)."""
    if not account.rib_sha256:
        return None
    for existing in memoire.attachments:
        if existing.type_code == RIB_TYPE and existing.sha256 == account.rib_sha256:
            return existing
    stored = session.get(StoredFile, account.rib_sha256)
    extension = next((ext for ext, (mime, _) in KINDS.items() if mime == stored.mime), "pdf")
    attachment = Attachment(
        memoire=memoire, sha256=account.rib_sha256,
        filename=safe_display_name(account.rib_filename or f"rib.{extension}", extension),
        designation=f"Coordonnée bancaire - {account.nom}"[:MAX_DESIGNATION],
        type_code=RIB_TYPE, extension=extension, uploaded_by_id=user.id if user else None,
    )
    session.add(attachment)
    session.flush()
    return attachment


def delete_attachment(session: Session, user: User, attachment: Attachment) -> None:
    """Remove an attachment of a draft (or a library document); unused bytes go too."""
    if attachment.memoire is not None:
        _check_editable(session, attachment.memoire, None, None)
        attachment.memoire.attachments.remove(attachment)
    digest = attachment.sha256
    session.delete(attachment)
    session.flush()
    still_used = session.scalar(select(func.count(Attachment.id)).where(
        Attachment.sha256 == digest)) or session.scalar(select(func.count(BankAccount.id)).where(
            BankAccount.rib_sha256 == digest))
    if not still_used:
        stored = session.get(StoredFile, digest)
        if stored is not None:
            session.delete(stored)
            session.flush()
