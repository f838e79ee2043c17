"""The Secrets panel's row type matches the columns the listing query selects."""

from pyspace.secrets.listing import ROW_COLUMNS, PanelRow


def test_panel_row_fields_are_the_listing_columns_in_order():
    # PanelRow._make(row) fills fields by position: a column added to the query but not to the
    # row type (or in another order) would put values under the wrong names.
    assert PanelRow._fields == tuple(column.key for column in ROW_COLUMNS)
