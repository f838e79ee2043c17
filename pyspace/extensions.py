"""Flask extensions, created once here and bound to the app in `create_app`."""

from typing import TYPE_CHECKING

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
# Models subclass `Model`: Flask-SQLAlchemy builds `db.Model` from `Base` at run time, which a
# type checker can't follow, so it checks the models against `Base`.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
login_manager = LoginManager()
csrf = CSRFProtect()
migrate = Migrate()
# Limits are declared on the views that make the server work for anonymous users;
# counters live where RATELIMIT_STORAGE_URI says: by default a SQLite file in the instance folder
# that every process on the machine shares (pyspace/rate_limit_storage.py).
limiter = Limiter(key_func=get_remote_address)
