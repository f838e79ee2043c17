import anvil.server
from anvil.tables import app_tables
from . import Utils


def get_plan(name):
    row = app_tables.plans.get(name=name)
    return None if row is None else {"name": row["name"], "cents": Utils.cents(row["price"])}
