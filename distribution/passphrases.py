"""One passphrase per person per conference, kept only until the last of their documents is sent.

A family member gets one passphrase for every protected document of a conference (the
invitation, the reports, the record), by one letter (and one text where a phone number is
known) that lists the documents it opens. Documents are built days or weeks apart, so the
passphrase is kept between them: in the delivery folder's ``passphrases/`` (owner-only files,
like the letter itself, which prints it), under a name that is a keyed hash of the conference
and the person, so a file name says nothing to anyone without the folder's key. Once the last
of the person's protected documents for the conference has been sent, the passphrase is
forgotten (``forget``): only its verifier stays, in the delivery records.

Two schedulers building two documents for the same person at once agree on one passphrase:
the first to create the file wins (an exclusive link), and the other reads it back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from distribution.errors import EncryptionError
from distribution.pdf_protection import new_passphrase

#: The letter's and the text message's templates (plain wording of this module's promises).
LETTER_TEMPLATES = Path(__file__).parent / "letters"
_KEY_FILE = ".key"


@dataclass(frozen=True)
class PersonPassphrase:
    """The passphrase of one person for one conference, and the name its letter is filed under."""

    passphrase: str
    letter: str  # random: letters/<letter>.pdf, sms/<letter>.txt


class PassphraseBook:
    """The passphrases of the people whose documents a delivery folder sends (``folder/passphrases``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def for_person(self, conference: str, person: str) -> tuple[PersonPassphrase, bool]:
        """The person's passphrase for the conference, made on first use; and whether it is new."""
        path = self.folder / f"{self._name(conference, person)}.json"
        kept = self._read(path)
        if kept is not None:
            return kept, False
        made = PersonPassphrase(new_passphrase(), secrets.token_hex(16))
        if _create_exclusively(path, json.dumps(asdict(made)).encode("utf-8")):
            return made, True
        kept = self._read(path)
        if kept is None:
            raise EncryptionError(f"the passphrase file {path.name} cannot be read; nothing was protected")
        return kept, False

    def find(self, conference: str, person: str) -> PersonPassphrase | None:
        """The person's passphrase for the conference if one was made (to find their letter)."""
        if not (self.folder / _KEY_FILE).exists():
            return None
        return self._read(self.folder / f"{self._name(conference, person)}.json")

    def forget(self, conference: str, person: str) -> None:
        """Remove the person's passphrase for the conference once nothing more is to be sent with it.

        A document planned later for them (the conference scheduled again) gets a new passphrase
        and a new letter.
        """
        if (self.folder / _KEY_FILE).exists():
            (self.folder / f"{self._name(conference, person)}.json").unlink(missing_ok=True)

    def _name(self, conference: str, person: str) -> str:
        key = self._key()
        return hmac.new(key, f"{conference}\x1f{person}".encode(), hashlib.sha256).hexdigest()[:32]

    def _key(self) -> bytes:
        path = self.folder / _KEY_FILE
        if not path.exists():
            _create_exclusively(path, secrets.token_hex(32).encode("ascii"))
        try:
            return path.read_bytes().strip()
        except OSError as exc:
            raise EncryptionError(f"the passphrase folder's key cannot be read ({exc.strerror}); "
                                  "nothing was protected") from None

    @staticmethod
    def _read(path: Path) -> PersonPassphrase | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise EncryptionError(f"the passphrase file {path.name} is damaged ({type(exc).__name__}); "
                                  "nothing was protected") from None
        return PersonPassphrase(passphrase=str(data["passphrase"]), letter=str(data["letter"]))


def _create_exclusively(path: Path, data: bytes) -> bool:
    """Write ``path`` whole, owner-only, unless it exists already; whether this call created it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        Path(temporary).unlink(missing_ok=True)
