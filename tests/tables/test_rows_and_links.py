"""Tables and rows as Anvil has them (add_rows, has_row, get_by_id, dict-like rows, to_csv,
Anvil's error classes), link columns, and real apps' code run unchanged: scores linking to
their players, a landlord lookup over two owner columns, the TodoList template's has_row."""

import pytest

from pyspace.extensions import db
from pyspace.models import DataLink
from tests.tables.helpers import (
    TABLE_LIMITS,
    make_widget_with_table,
    make_widget_with_tables,
)
from tests.tables.test_api import printed, run


@pytest.fixture(autouse=True)
def limits(app_config):
    app_config.update(TABLE_LIMITS)


@pytest.fixture
def owner(make_user):
    return make_user()


@pytest.fixture
def widget(app, owner):
    return make_widget_with_table(app, owner)


@pytest.fixture
def game(app, owner):
    return make_widget_with_tables(
        app,
        owner,
        {
            "players": [("name", "text")],
            "scores": [("player", ("link_single", "players")), ("score", "number")],
            "teams": [("name", "text"), ("members", ("link_multiple", "players"))],
        },
    )


def test_rows_behave_like_anvils(app, widget):
    result = run(
        app,
        widget,
        """
        rows = app_tables.readings.add_rows([{'city': 'Bergen', 'temp': 7}, dict(city='Oslo')])
        bergen, oslo = rows
        print(json.dumps([r['city'] for r in rows]))
        print(json.dumps(['city' in oslo, 'nope' in oslo, oslo.get('temp', 'd'),
                          oslo.get('nope', 'd'), oslo['temp']]))
        oslo.update({'temp': 1}, description='cold')
        oslo.update(temp=2)
        print(json.dumps([dict(oslo)['temp'], dict(oslo)['description'], sorted(oslo.keys())]))
        same = app_tables.readings.get_by_id(oslo.get_id())
        same['temp'] = 3
        oslo.refresh()
        print(json.dumps([oslo['temp'], app_tables.readings.get_by_id('999999') is None,
                          app_tables.readings.get_by_id('not an id') is None]))
        print(json.dumps([app_tables.readings.has_row(oslo), oslo in app_tables.readings]))
        oslo.delete()
        print(json.dumps([app_tables.readings.has_row(oslo), oslo in app_tables.readings]))
        for action in (lambda: oslo['city'], lambda: oslo.update(temp=4), oslo.refresh):
            try:
                action()
            except tables.RowDeleted as error:
                print(json.dumps(['RowDeleted', isinstance(error, tables.TableError)]))
        try:
            bergen['nope']
        except tables.NoSuchColumnError:
            print(json.dumps('NoSuchColumnError'))
        try:
            app_tables.readings.add_row(nope=1)
        except tables.NoSuchColumnError:
            print(json.dumps('NoSuchColumnError on add'))
        """,
        seed=False,
    )
    assert printed(result) == [
        ["Bergen", "Oslo"],
        [True, False, None, "d", None],
        [2, "cold", ["city", "description", "temp", "when"]],
        [3, True, True],
        [True, True],
        [False, False],
        ["RowDeleted", True],
        ["RowDeleted", True],
        ["RowDeleted", True],
        "NoSuchColumnError",
        "NoSuchColumnError on add",
    ]


def test_tables_list_iterate_and_export(app, widget):
    result = run(
        app,
        widget,
        """
        import anvil
        print(json.dumps(list(app_tables)))
        table_id = app_tables.readings.get_id()
        print(json.dumps([tables.get_table_by_id(table_id) is app_tables.readings,
                          tables.get_table_by_id('0') is None]))
        media = app_tables.readings.to_csv()
        print(json.dumps([isinstance(media, anvil.Media), media.content_type, media.name]))
        print(json.dumps(media.get_bytes().decode().splitlines()[:2]))
        some = app_tables.readings.search(tables.order_by('temp'), city='Oslo').to_csv()
        print(json.dumps(some.get_bytes().decode().splitlines()))
        """,
    )
    out = printed(result)
    assert out[0] == ["readings"]
    assert out[1] == [True, True]
    assert out[2] == [True, "text/csv", "readings.csv"]
    assert out[3] == ["when,city,temp,description", "2026-11-01T12:00:00Z,Oslo,3.5,light rain"]
    assert out[4] == [
        "when,city,temp,description",
        "2026-11-01T15:00:00Z,Oslo,-2,",
        "2026-11-01T12:00:00Z,Oslo,3.5,light rain",
    ]


def test_quota_is_a_quota_exceeded_error(app, widget):
    app.config["TABLES_MAX_ROWS"] = 2
    result = run(
        app,
        widget,
        """
        try:
            app_tables.readings.add_rows([{}, {}, {}])
        except tables.QuotaExceededError as error:
            added = len(app_tables.readings.search())
            print(json.dumps([isinstance(error, tables.TableError), added]))
        """,
        seed=False,
    )
    assert printed(result) == [[True, 0]]


def test_scores_link_to_their_players(app, game):
    result = run(
        app,
        game,
        """
        ada = app_tables.players.add_row(name="Ada")
        bob = app_tables.players.add_row(name="Bob")
        app_tables.scores.add_row(player=ada, score=10)
        app_tables.scores.add_row(player=bob, score=7)
        app_tables.scores.add_row(player=ada, score=12)
        best = app_tables.scores.search(tables.order_by("score", ascending=False))[0]
        print(json.dumps([best['player']['name'], best['player'] == ada]))
        print(json.dumps(sorted(s['score'] for s in app_tables.scores.search(player=ada))))
        print(json.dumps(len(app_tables.scores.search(player=q.any_of(ada, bob)))))
        print(json.dumps(len(app_tables.scores.search(player=q.not_(ada)))))
        team = app_tables.teams.add_row(name='A', members=[ada, bob])
        app_tables.teams.add_row(name='B', members=[bob])
        print(json.dumps([m['name'] for m in team['members']]))
        print(json.dumps([t['name'] for t in app_tables.teams.search(members=[ada])]))
        print(json.dumps([t['name'] for t in app_tables.teams.search(members=bob)]))
        print(json.dumps(app_tables.players.list_columns() + app_tables.scores.list_columns()))
        bob.delete()
        print(json.dumps([app_tables.scores.get(score=7)['player'],
                          [m['name'] for m in app_tables.teams.get(name='A')['members']]]))
        score = app_tables.scores.get(score=10)
        for bad in (score, 'Ada', [ada]):
            try:
                app_tables.scores.add_row(player=bad)
            except tables.TableError as error:
                print(json.dumps(type(error).__name__))
        try:
            app_tables.scores.add_row(player=bob)
        except tables.RowDeleted:
            print(json.dumps('RowDeleted'))
        """,
        seed=False,
    )
    assert printed(result) == [
        ["Ada", True],
        [10, 12],
        3,
        1,
        ["Ada", "Bob"],
        ["A"],
        ["A", "B"],
        [
            {"name": "name", "type": "string"},
            {"name": "player", "type": "link_single", "table": "players"},
            {"name": "score", "type": "number"},
        ],
        [None, ["Ada"]],
        "TableError",
        "TableError",
        "TableError",
        "RowDeleted",
    ]
    with app.app_context():
        # The links to Bob went with him: none points at a row id a new row could reuse.
        assert db.session.scalar(db.select(db.func.count()).select_from(DataLink)) == 3


def test_landlord_lookup_searches_two_owner_columns(app, owner):
    widget = make_widget_with_tables(
        app, owner, {"properties": [("Address", "text"), ("Owner1", "text"), ("Owner2", "text")]}
    )
    result = run(
        app,
        widget,
        """
        for address, one, two in [("1 High St", "J SMITH", None),
                                  ("2 Low Rd", "A Jones", "Jo Smith"),
                                  ("3 Mill Ln", "B Brown", "C Green")]:
            app_tables.properties.add_row(Address=address, Owner1=one, Owner2=two)

        def lookup(name):
            x = f"%{name}%"
            rows = app_tables.properties.search(q.any_of(Owner1=q.ilike(x), Owner2=q.ilike(x)))
            return [r['Address'] for r in rows]

        print(json.dumps([lookup("smith"), lookup("brown"), lookup("nobody")]))
        """,
        seed=False,
    )
    assert printed(result) == [[["1 High St", "2 Low Rd"], ["3 Mill Ln"], []]]


def test_todolist_template_has_row(app, owner):
    widget = make_widget_with_tables(app, owner, {"tasks": [("title", "text"), ("done", "bool")]})
    result = run(
        app,
        widget,
        """
        @anvil.server.callable
        def delete_task(task):
            if app_tables.tasks.has_row(task):
                task.delete()
            else:
                raise Exception("Task does not exist")

        task = app_tables.tasks.add_row(title="Write tests", done=False)
        delete_task(task)
        try:
            delete_task(task)
        except Exception as error:
            print(json.dumps(str(error)))
        print(json.dumps(len(app_tables.tasks.search())))
        """,
        seed=False,
    )
    assert printed(result) == ["Task does not exist", 0]


def test_auto_created_columns_are_off_by_default_and_switched_on_in_the_data_panel(
    app, alice, owner
):
    widget = alice.create_widget("Auto")
    with app.app_context():
        from pyspace.models import Widget
        from pyspace.tables import schema

        schema.create_table(db.session.get(Widget, widget), "players")
        schema.create_table(db.session.get(Widget, widget), "events")
    body = """
        try:
            app_tables.players.add_row(name="Ada")
        except tables.NoSuchColumnError:
            print(json.dumps("refused"))
        """
    assert printed(run(app, widget, body, seed=False)) == ["refused"]
    panel = alice.client.get(f"/widgets/{widget}/tables").get_data(as_text=True)
    assert "Add columns automatically when code adds a row" in panel
    response = alice.post(f"/widgets/{widget}/tables/auto-columns", data={"on": "1"}, htmx=True)
    assert response.status_code == 200 and "<strong>on</strong>" in response.get_data(as_text=True)
    body = """
        ada = app_tables.players.add_row(name="Ada", score=3, active=True, nothing=None)
        app_tables.events.add_rows([
            {"who": ada, "when": datetime(2026, 1, 1, tzinfo=timezone.utc), "day": date(2026, 1, 1),
             "tags": {"a": [1]}},
            {"team": [ada], "who": ada},
        ])
        print(json.dumps(app_tables.players.list_columns()))
        print(json.dumps(app_tables.events.list_columns()))
        print(json.dumps(app_tables.events.search()[1]['team'][0]['name']))
        """
    assert printed(run(app, widget, body, seed=False)) == [
        [
            {"name": "name", "type": "string"},
            {"name": "score", "type": "number"},
            {"name": "active", "type": "bool"},
        ],
        [
            {"name": "who", "type": "link_single", "table": "players"},
            {"name": "when", "type": "datetime"},
            {"name": "day", "type": "date"},
            {"name": "tags", "type": "simpleObject"},
            {"name": "team", "type": "link_multiple", "table": "players"},
        ],
        "Ada",
    ]
