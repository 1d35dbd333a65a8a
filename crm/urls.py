from django.urls import path

from crm import views

app_name = "crm"
urlpatterns = [
    path("", views.home, name="home"),
    path("<str:entity>/", views.record_list, name="record-list"),
    path("<str:entity>/<int:pk>/", views.record_detail, name="record-detail"),
]
