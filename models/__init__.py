"""All models, imported here so that Alembic and create_app see every table."""
from models.juridiction import Juridiction  # noqa: F401
from models.mail import EmailToken, OutboxMessage  # noqa: F401
from models.lifecycle import Message, MessageAttachment, Notification  # noqa: F401
from models.memoire import (  # noqa: F401
    Attachment, Certificate, Counter, FraisDiversItem, Memoire, PrestationLine, StoredFile,
    Transition,
)
from models.organisation import BankAccount, Habilitation, Service, Structure, User  # noqa: F401
from models.reference import (  # noqa: F401
    AutoriteRequerante, CategoriePrestataire, Tariff, TauxTva, TexteReference, TypePieceJointe,
    TypePrestation,
)
