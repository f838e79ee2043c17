from ._anvil_designer import StripePricingTemplate
from anvil import *
import anvil.server
import anvil.users
import anvil.tables as tables
import anvil.tables.query as q
from anvil.tables import app_tables


class StripePricing(StripePricingTemplate):
  def __init__(self, **properties):
    # Set Form properties and Data Bindings.
    self.init_components(**properties)

    # Any code you write here will run before the form opens.
    pricing_table = self.dom_nodes['stripe-pricing-table']

    # Passes the user's email to the Stripe checkout. This ensures records match in both Stripe and the app.
    pricing_table.setAttribute("customer-email", anvil.users.get_user()["email"])
