"""The demo's console email backend prints each email as a person reads it: the links in
it whole (Django's console backend folds them as quoted-printable)."""

from io import StringIO

from django.core.mail import EmailMultiAlternatives

from sers.console_email import EmailBackend

LINK = (
    "http://localhost:8124/accounts/password/reset/MTIz/"
    "cz8x2r-0123456789abcdef0123456789abcdef/?next=/teacher/classes/12/grades/&lang=es"
)


def test_the_text_body_is_printed_as_it_is_with_every_link_whole():
    stream = StringIO()
    message = EmailMultiAlternatives(
        subject="Restablece tu contraseña",
        body=f"Hola José,\n\nAbre este enlace: {LINK}\n\nSERS\n",
        from_email="SERS <no-reply@sers.example.org>",
        to=["registrar@demo.sers.example"],
    )
    message.attach_alternative("<p>html</p>", "text/html")
    assert EmailBackend(stream=stream).send_messages([message]) == 1
    printed = stream.getvalue()
    assert f"Abre este enlace: {LINK}\n" in printed
    assert "Subject: Restablece tu contraseña\n" in printed
    assert "To: registrar@demo.sers.example\n" in printed
    assert "Hola José," in printed
    assert "[also sent as text/html]" in printed
    assert "=3D" not in printed
    assert "=\n" not in printed
