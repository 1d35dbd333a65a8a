from django.contrib import admin
from django.urls import include, path
from django.views.generic.base import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="crm:home", permanent=False), name="home"),
    path("accounts/", include("accounts.urls")),
    path("crm/", include("crm.urls")),
    path("lists/", include("lists.urls")),
    path("bizproc/", include("bizproc.urls")),
    path("rest/", include("rest.urls")),
    path("designer/", include("designer.urls")),
    path("admin/", admin.site.urls),
]
