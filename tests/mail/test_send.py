"""anvil.email.send from widget code: through a real SMTP server on loopback, or into the
outbox; redaction of secret values; the limits; the Outbox for owner and admin only."""

import pytest

from pyspace.extensions import db
from pyspace.mail.smtp import parse_smtp_url
from pyspace.models import MailMessage, User
from tests.sandbox.helpers import add_secret, confinement, run_json

SECRET = "sk-mail-7f3a9c-never-send"

SEND_EVERYTHING = """
import anvil, anvil.email, anvil.secrets
key = anvil.secrets.get_secret("api_key")
report = anvil.email.send(
    to=["Ann <ann@example.org>", "bob@example.org"], cc="carol@example.org",
    bcc=["dave@example.org"], subject="Report " + key, text="Text body with " + key,
    html="<p>HTML <img src='cid:logo'> " + key + "</p>",
    attachments=[
        anvil.BlobMedia("text/plain", ("data " + key).encode(), name="notes-" + key + ".txt")
    ],
    inline_attachments={"logo": anvil.BlobMedia("image/png", b"\\x89PNG fake", name="logo.png")},
)
print("sent", report.message_id)
"""


def _use_smtp(app, mailbox) -> None:
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{mailbox.port}"
    app.config["MAIL_FROM"] = "widgets@pyspace.test"


def test_send_delivers_to_the_smtp_server_with_secrets_masked_and_bcc_hidden(app, alice, mailbox):
    confinement(app)
    _use_smtp(app, mailbox)
    widget_id = alice.create_widget("Weekly report", server_code=SEND_EVERYTHING)
    add_secret(app, widget_id, "api_key", SECRET)
    answer = run_json(alice, widget_id)
    assert answer["ok"], answer
    message_id = answer["stdout"].split()[1]
    assert len(mailbox.messages) == 1
    recipients, message = mailbox.messages[0]
    assert sorted(recipients) == sorted(
        ["ann@example.org", "bob@example.org", "carol@example.org", "dave@example.org"]
    )
    assert message["From"] == "Weekly report <widgets@pyspace.test>"
    assert message["Bcc"] is None
    assert message["Cc"] == "carol@example.org"
    assert message["Message-ID"] == message_id
    assert message["Subject"] == "Report ***"
    assert message.get_body(("plain",)).get_content().strip() == "Text body with ***"
    html = message.get_body(("html",)).get_content()
    assert "HTML" in html and "***" in html
    attachments = list(message.iter_attachments())
    assert [part.get_filename() for part in attachments] == ["notes-***.txt"]
    assert attachments[0].get_content() == "data ***"
    assert SECRET not in message.as_string()
    related = [part for part in message.walk() if part["Content-ID"] == "<logo>"]
    assert len(related) == 1
    with app.app_context():
        row = db.session.scalar(db.select(MailMessage))
        assert row.status == "sent" and row.raw is None


def test_without_a_mail_server_mail_stays_in_the_outbox_for_the_owner_and_admin(
    app, alice, bob, make_client
):
    confinement(app)
    code = "import anvil.email\nanvil.email.send(subject='Hello', text='Kept <b>here</b>')\n"
    widget_id = alice.create_widget("Feedback form", server_code=code)
    answer = run_json(alice, widget_id)
    assert answer["ok"], answer
    with app.app_context():
        row = db.session.scalar(db.select(MailMessage))
        assert row.status == "outbox" and row.raw and "Feedback form" in row.sender
        mail_id = row.id
    panel = alice.client.get(f"/widgets/{widget_id}/outbox", headers={"HX-Request": "true"})
    assert panel.status_code == 200 and "<html" not in panel.get_data(as_text=True)
    assert "Hello" in panel.get_data(as_text=True)
    shown = alice.client.get(f"/widgets/{widget_id}/outbox/{mail_id}").get_data(as_text=True)
    assert "Kept &lt;b&gt;here&lt;/b&gt;" in shown
    assert bob.client.get(f"/widgets/{widget_id}/outbox").status_code == 404
    assert bob.client.get(f"/widgets/{widget_id}/outbox/{mail_id}").status_code == 404
    assert bob.client.get("/admin/outbox").status_code == 404
    assert make_client().client.get(f"/widgets/{widget_id}/outbox").status_code == 404
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username="bob")).is_admin = True
        db.session.commit()
    site = bob.client.get("/admin/outbox")
    assert site.status_code == 200 and "Hello" in site.get_data(as_text=True)
    assert bob.client.get(f"/admin/outbox/{mail_id}").status_code == 200
    editor = alice.client.get(f"/widgets/{widget_id}/edit").get_data(as_text=True)
    assert f"/widgets/{widget_id}/outbox" in editor


LIMITS_CODE = """
import anvil, anvil.email, anvil.secrets
def attempt(label, **message):
    try:
        anvil.email.send(text="hi", **message)
        print(label, "sent")
    except anvil.email.SendFailure as error:
        print(label, "refused:", error)
attempt("many", to=["a%d@example.org" % i for i in range(4)])
attempt("big", to="a@example.org", attachments=[anvil.BlobMedia("application/zip", b"x" * 5000)])
attempt("bad", to="not an address")
attempt("header", to="a@example.org\\nBcc: evil@example.org")
attempt("secret", to=anvil.secrets.get_secret("api_key") + "@example.org")
binary = b"\\x00\\xff" + anvil.secrets.get_secret("api_key").encode()
attempt("binary", to="a@example.org", attachments=[anvil.BlobMedia("application/zip", binary)])
for n in range(3):
    attempt("daily%d" % n, to="a@example.org")
"""


def test_limits_refuse_with_send_failure(app, alice, mailbox):
    confinement(app)
    _use_smtp(app, mailbox)
    app.config.update(MAIL_RECIPIENTS_PER_MESSAGE=3, MAIL_MAX_BYTES=4000, MAIL_PER_WIDGET_PER_DAY=2)
    widget_id = alice.create_widget("Limits", server_code=LIMITS_CODE)
    add_secret(app, widget_id, "api_key", SECRET)
    answer = run_json(alice, widget_id)
    assert answer["ok"], answer
    lines = dict(line.split(" ", 1) for line in answer["stdout"].splitlines())
    assert lines["many"].startswith("refused: An e-mail may have at most 3 recipients")
    assert lines["big"].startswith("refused: This e-mail is") and "4,000 bytes" in lines["big"]
    assert lines["bad"].startswith("refused: Not an e-mail address")
    assert lines["header"].startswith("refused: Not an e-mail address")
    assert lines["secret"] == (
        "refused: An address of this e-mail holds a secret value the run read."
    )
    assert lines["binary"] == (
        "refused: The attachment 'attachment' holds a secret value the run read: it is not sent."
    )
    assert lines["daily0"] == "sent" and lines["daily1"] == "sent"
    assert lines["daily2"].startswith("refused: This widget has sent its 2 e-mails for today")
    assert len(mailbox.messages) == 2


FLOOD_CODE = """
import anvil.email
sent = 0
for n in range(8):
    try:
        anvil.email.send(to="x@example.org", subject="flood %d" % n, text="flood")
        sent += 1
    except anvil.email.SendFailure as error:
        last = str(error)
print(sent, last)
"""


def test_one_account_flooding_mail_leaves_another_accounts_share(app, alice, bob, mailbox):
    confinement(app)
    _use_smtp(app, mailbox)
    app.config.update(MAIL_PER_ACCOUNT_PER_DAY=3, MAIL_PER_WIDGET_PER_DAY=100)
    flood_a = alice.create_widget("Flood A", server_code=FLOOD_CODE)
    flood_b = alice.create_widget("Flood B", server_code=FLOOD_CODE)
    first, second = run_json(alice, flood_a), run_json(alice, flood_b)
    assert first["stdout"].startswith("3 This account's widgets have sent their 3 e-mails")
    assert second["stdout"].startswith("0 This account's widgets have sent their 3 e-mails")
    code = "import anvil.email\nprint(anvil.email.send(to='y@example.org', text='hi'))\n"
    bobs = bob.create_widget("Bob's", server_code=code)
    answer = run_json(bob, bobs)
    assert answer["ok"] and answer["stdout"].startswith("<anvil.email.SendReport"), answer
    assert [rcpt for rcpt, _ in mailbox.messages].count(["y@example.org"]) == 1
    assert len(mailbox.messages) == 4


def test_an_unreachable_mail_server_is_a_send_failure_and_is_logged(app, alice):
    confinement(app)
    app.config["SMTP_URL"] = "smtp://127.0.0.1:9"  # discard port: nothing listens
    code = (
        "import anvil.email\ntry:\n    anvil.email.send(to='a@example.org', text='hi')\n"
        "except anvil.email.SendFailure as error:\n    print(error)\n"
    )
    widget_id = alice.create_widget("Down", server_code=code)
    answer = run_json(alice, widget_id)
    assert answer["stdout"] == "The mail server did not take the e-mail; try again later.\n"
    with app.app_context():
        assert db.session.scalar(db.select(MailMessage)).status == "failed"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", ("mail.example.org", 25, False, False, None, None)),
        ("smtps://u:p%40ss@mail.example.org", ("mail.example.org", 465, True, False, "u", "p@ss")),
        (
            "smtp://mail.example.org:2525?starttls=1",
            ("mail.example.org", 2525, False, True, None, None),
        ),
    ],
)
def test_smtp_url_forms(url, expected):
    server = parse_smtp_url(url)
    got = (server.host, server.port, server.tls, server.starttls, server.username, server.password)
    assert got == expected
