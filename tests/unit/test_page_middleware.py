"""NiceGUI's page middleware is wrapped once per app, however often the app's setup runs."""

from nicegui.middlewares import SetCacheControlMiddleware
from starlette.applications import Starlette
from starlette.middleware import Middleware

from app.api.page_middleware import PagesOnly, pages_only


def test_a_second_setup_on_the_same_app_wraps_nothing_again():
    app = Starlette(middleware=[Middleware(SetCacheControlMiddleware)])
    pages_only(app)
    build = app.build_middleware_stack

    pages_only(app)  # the `user` fixture runs main.py's setup again for every test

    assert app.build_middleware_stack is build
    app.build_middleware_stack()
    assert [m.cls for m in app.user_middleware] == [PagesOnly]
    assert app.user_middleware[0].args[0] is SetCacheControlMiddleware
