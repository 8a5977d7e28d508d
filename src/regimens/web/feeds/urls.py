"""Feed URLs carry the token (the credential) only in /feeds/<token>.ics; staff actions carry
opaque ids."""

from django.urls import path

from regimens.web.feeds import views

urlpatterns = [
    path("feeds/<str:token>.ics", views.feed, name="feed"),
    path("plans/<uuid:plan_id>/feeds/new/", views.feed_new, name="feed_new"),
    path("plans/<uuid:plan_id>/feeds/<uuid:feed_id>/rotate/", views.feed_rotate, name="feed_rotate"),
    path("plans/<uuid:plan_id>/feeds/<uuid:feed_id>/revoke/", views.feed_revoke, name="feed_revoke"),
    path("plans/<uuid:plan_id>/feeds/<uuid:feed_id>/email/", views.feed_email, name="feed_email"),
    path("plans/<uuid:plan_id>/feeds/<uuid:feed_id>/calendar.pdf", views.feed_calendar, name="feed_calendar"),
]
