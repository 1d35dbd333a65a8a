from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import company_views, views
from accounts.profile import profile_sections

app_name = "accounts"
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("people/", views.people_search, name="people-search"),
    path("profile/", views.profile, name="profile"),
    path("company/", company_views.company, name="company"),
    path("company/departments/add/", company_views.department_create, name="department-create"),
    path(
        "company/departments/<int:pk>/",
        company_views.department_update,
        name="department-update",
    ),
    path(
        "company/departments/<int:pk>/delete/",
        company_views.department_delete,
        name="department-delete",
    ),
    path(
        "company/people/<int:pk>/",
        company_views.person_departments,
        name="person-departments",
    ),
    path("company/calendar/", company_views.work_calendar, name="work-calendar"),
    path("absences/", company_views.absence_chart, name="absence-chart"),
    path("absences/add/", company_views.absence_create, name="absence-create"),
    path("absences/<int:pk>/delete/", company_views.absence_delete, name="absence-delete"),
    path("profile/notifications/read/", views.notifications_read, name="notifications-read"),
    *(path(f"profile/{s.name}/", include(list(s.urlpatterns))) for s in profile_sections),
]
