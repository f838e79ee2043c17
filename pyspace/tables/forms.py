"""Data panel forms. Names are checked by the domain code (schema.py), which says why."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from ..models import COLUMN_TYPES


class NameForm(FlaskForm):
    """Create or rename a table or a column."""

    name = StringField("Name")


class ColumnForm(FlaskForm):
    name = StringField("Column name")
    type = SelectField(
        "Type",
        choices=[SelectChoice(type_, type_.replace("_", " ")) for type_ in COLUMN_TYPES],
        validate_choice=False,  # an unknown type is refused by schema.add_column, next to the field
    )


class ClientAccessForm(FlaskForm):
    """What client code may do with a table (checked by schema.set_client_access)."""

    access = StringField("Client access")


class SwitchForm(FlaskForm):
    """Turn a setting on (`on` is "1") or off."""

    on = StringField("On")


class CellForm(FlaskForm):
    value = TextAreaField("Value")


class MediaUploadForm(FlaskForm):
    """A file for a media cell (its size is checked against TABLES_MEDIA_MAX_BYTES)."""

    file = FileField("File")


class LinkPickForm(FlaskForm):
    """The rows a link cell links to, picked in the Data panel (ids of the target table's rows;
    each is checked by rows.update_row, which refuses rows of another table)."""

    target = SelectMultipleField("Rows", validate_choice=False)


class CsvImportForm(FlaskForm):
    csv = TextAreaField("CSV")
    csv_file = FileField("CSV file")
    step = StringField("Step")


def row_values_from(form: dict, columns) -> dict[str, str]:
    """The text typed for each column in the Add row form (fields named col-<id>)."""
    return {column.name: form.get(f"col-{column.id}", "") for column in columns}


class ZipImportForm(FlaskForm):
    """A zip export to import: the file at preview, then only the token the kept upload has
    (zip_io keeps it server-side between the two steps)."""

    zip_file = FileField("Zip file")
    upload = StringField("Upload")
    step = StringField("Step")
