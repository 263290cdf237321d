"""The console email backend (the embedded demo): each email as a person reads it.

Django's console backend prints the raw MIME message. In it a long line of the text body
is folded as quoted-printable (an "=" at each break, "=3D" for every "="), so a link
cannot be clicked or copied whole, and non-English text is encoded. This backend prints
the addresses, the subject and the plain-text body as it is: every link on one line.
"""

from django.conf import settings
from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend


class EmailBackend(DjangoConsoleBackend):
    def write_message(self, message):
        lines = [
            f"From: {message.from_email or settings.DEFAULT_FROM_EMAIL}",
            f"To: {', '.join(message.to)}",
        ]
        if message.cc:
            lines.append(f"Cc: {', '.join(message.cc)}")
        if message.reply_to:
            lines.append(f"Reply-To: {', '.join(message.reply_to)}")
        lines += [f"Subject: {message.subject}", "", str(message.body).rstrip("\n")]
        for alternative in getattr(message, "alternatives", []):
            lines.append(f"[also sent as {alternative[1]}]")
        if message.attachments:
            lines.append(f"[{len(message.attachments)} attachment(s)]")
        self.stream.write("\n".join(lines) + "\n")
        self.stream.write("-" * 79 + "\n")
