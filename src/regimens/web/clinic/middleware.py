"""Patient pages are never kept by a browser or a proxy cache (shared ward computers)."""

from __future__ import annotations


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # feeds set their own caching (private, revalidated: exporters/feed.py)
        if not request.path.startswith(("/static/", "/feeds/")):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response
