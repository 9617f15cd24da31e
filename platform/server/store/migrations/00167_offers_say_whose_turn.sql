-- +goose Up
-- An offer says whether the fair-matching order made it (fair_turn): a worker who declines
-- such an offer, or lets it expire, has had their turn and goes behind those offered
-- nothing since. An offer a customer asked for by name, or an order sent to a listing's
-- maker, is no turn of the fair order: letting it pass moves no one back, so no customer
-- sends a worker to the back of the queue by naming them and waiting. Offers made before
-- are none.
ALTER TABLE offers ADD COLUMN fair_turn boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE offers DROP COLUMN fair_turn;
