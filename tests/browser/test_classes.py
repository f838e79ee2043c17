"""A teacher's class in Chromium: make a class, make pupils' accounts from a CSV and print
their links, hand a widget with a secret out to the class; a pupil's link works once."""

from playwright.sync_api import expect

from pyspace.extensions import db
from pyspace.models import Secret, User, Widget
from pyspace.secrets import vault
from tests.browser.conftest import new_widget, sign_up

SECRET_VALUE = "owm-teacher-1c2d3e-never-shown"


def test_a_teacher_makes_a_class_from_a_csv_and_hands_out_a_widget(
    app, page, browser, live_server, screenshot, tmp_path
):
    sign_up(page, "teach")
    with app.app_context():
        db.session.execute(db.update(User).filter_by(username="teach").values(is_teacher=True))
        db.session.commit()
    widget_id = new_widget(page, "Weather station")
    with app.app_context():
        db.session.add(
            Secret(
                widget_id=widget_id,
                name="WEATHER_API_KEY",
                ciphertext=vault.encrypt_value(SECRET_VALUE),
            )
        )
        db.session.commit()

    page.goto("/")
    page.get_by_role("link", name="Classes").click()
    page.get_by_label("Class name").fill("7B Computing")
    page.get_by_role("button", name="Make the class").click()
    page.wait_for_url("**/classes/*")

    page.get_by_role("link", name="Make accounts from a CSV").click()
    names = tmp_path / "7b.csv"
    names.write_text("name\nada_l\ngrace_h\nalan_t\nkatherine_j\n")
    page.get_by_label("CSV of names").set_input_files(str(names))
    page.get_by_role("button", name="Make the accounts").click()
    slips = page.locator(".login-slip")
    expect(slips).to_have_count(4)
    screenshot("class-login-sheet")
    first_link = slips.first.locator(".login-slip-link").inner_text()

    page.get_by_role("link", name="Back to 7B Computing").click()
    expect(page.locator(".pupils-table tbody tr")).to_have_count(4)
    screenshot("class-page")

    page.get_by_label("Widget").select_option(widget_id)
    page.get_by_role("button", name="Give every pupil a copy").click()
    expect(page.get_by_text("4 of 4 pupils got a copy")).to_be_visible()
    assert SECRET_VALUE not in page.content()
    screenshot("class-handed-out")
    page.get_by_role("link", name="Back to 7B Computing").click()
    page.get_by_role("link", name="grace_h").click()
    page.wait_for_load_state()  # the pupil's page, whole
    assert "WEATHER_API_KEY" in page.content() and SECRET_VALUE not in page.content()
    screenshot("class-pupil")

    pupil = browser.new_context(base_url=live_server).new_page()
    pupil.goto(first_link)
    pupil.get_by_label("Choose a password").fill("ada's own password")
    pupil.get_by_role("button", name="Set my password and log in").click()
    pupil.wait_for_url("**/")
    assert pupil.locator("header .nav-user").inner_text() == "ada_l"
    assert "Weather station" in pupil.content()
    pupil.goto(first_link)
    assert "can't be used" in pupil.content()
    pupil.context.close()
    with app.app_context():
        forks = db.session.scalars(db.select(Widget).filter_by(forked_from_id=widget_id)).all()
        assert len(forks) == 4
        assert all(s.ciphertext is None for fork in forks for s in fork.secrets)
