"""URLs carry only opaque ids (UUIDs) and protocol ids, never a patient's name or record number."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from regimens.web.clinic import live, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="clinic/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("setup/<str:token>/", views.setup, name="setup"),
    path("patients/", views.patients, name="patients"),
    path("patients/new/", views.patient_new, name="patient_new"),
    path("patients/<uuid:patient_id>/", views.patient, name="patient"),
    path("patients/<uuid:patient_id>/plans/new/", views.plan_new, name="plan_new"),
    path("patients/<uuid:patient_id>/plans/new/check/", live.plan_new_check, name="plan_new_check"),
    path("patients/<uuid:patient_id>/plans/import/", views.plan_import, name="plan_import"),
    path("patients/<uuid:patient_id>/audit/", views.patient_audit, name="patient_audit"),
    path("patients/<uuid:patient_id>/audit.<str:fmt>", views.patient_audit_export, name="patient_audit_export"),
    path("plans/<uuid:plan_id>/", views.plan, name="plan"),
    path("plans/<uuid:plan_id>/month/", views.plan_month, name="plan_month"),
    path("plans/<uuid:plan_id>/working/", views.plan_working, name="plan_working"),
    path("plans/<uuid:plan_id>/verify/", views.plan_verify, name="plan_verify"),
    path("plans/<uuid:plan_id>/change/", views.plan_change, name="plan_change"),
    path("plans/<uuid:plan_id>/change/check/", live.plan_change_check, name="plan_change_check"),
    path("plans/<uuid:plan_id>/language/", views.plan_language, name="plan_language"),
    path("plans/<uuid:plan_id>/sheet/<str:kind>.<str:fmt>", views.plan_sheet, name="plan_sheet"),
    path("plans/<uuid:plan_id>/calendar.ics", views.plan_ics, name="plan_ics"),
    path("plans/<uuid:plan_id>/plan.yaml", views.plan_file, name="plan_file"),
    path("plans/<uuid:plan_id>/timeline.json", views.plan_json, name="plan_json"),
    path("protocols/<str:protocol_id>/", views.protocol_page, name="protocol"),
    path("today/", views.today, name="today"),
    path("audit.<str:fmt>", views.audit_export, name="audit_export"),
    path("admin/", admin.site.urls),
    path("", include("regimens.web.feeds.urls")),
]
