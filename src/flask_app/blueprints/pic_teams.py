from flask import Blueprint

bp = Blueprint("pic_teams", __name__)
