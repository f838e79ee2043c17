import anvil.server
from anvil.tables import app_tables
from .Subscriptions import get_plan
from .billing.charges import describe


@anvil.server.callable
def add_plan(name, price):
    app_tables.plans.add_row(name=name, price=price, active=True)


@anvil.server.callable
def quote(name):
    plan = get_plan(name)
    return describe(plan["cents"])


@anvil.server.background_task
def nightly_report():
    print("report")


@anvil.server.background_task
def refresh_cache():
    pass


@anvil.server.background_task
def monthly_invoices():
    pass
