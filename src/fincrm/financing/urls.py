app_name = "financing"
urlpatterns = []
