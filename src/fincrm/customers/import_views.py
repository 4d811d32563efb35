from django.http import HttpResponse


def import_upload(request):  # placeholder until the importer lands (being written now)
    return HttpResponse(status=501)


def import_preview(request, token):
    return HttpResponse(status=501)
