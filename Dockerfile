FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY events ./events
COPY identity ./identity
COPY commands ./commands
COPY projections ./projections
COPY read_api ./read_api
COPY ledgerdesk ./ledgerdesk
RUN pip install --no-cache-dir .
RUN useradd --system ledgerdesk
USER ledgerdesk
ENV LEDGERDESK_HOST=0.0.0.0 LEDGERDESK_PORT=8000
EXPOSE 8000
CMD ["ledgerdesk", "serve", "api"]
