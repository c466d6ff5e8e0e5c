"""``/items`` answers with ``Vary: Cookie``, as a view using sessions does; ``/fail`` raises."""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.vary import vary_on_cookie


@vary_on_cookie
def items(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"items": ["a", "b"]})


def fail(request: HttpRequest) -> JsonResponse:
    raise RuntimeError("the view failed")


urlpatterns = [path("items", items), path("fail", fail)]
